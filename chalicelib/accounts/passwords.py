"""Password policy and bcrypt hashing.

bcrypt reads at most 72 bytes (and bcrypt>=5 refuses more), so a longer
password is refused at registration and reset instead of being cut: two
passwords sharing their first 72 bytes must never both work.
"""

from __future__ import annotations

from functools import lru_cache

import bcrypt

from chalicelib.config import settings

MIN_BYTES = 8
MAX_BYTES = 72


def password_problems(password: str, *, username: str = "", email: str = "") -> list[str]:
    """Why ``password`` may not be used; empty when it may. Lengths are UTF-8 bytes."""
    size = len(password.encode("utf-8"))
    problems = []
    if size < MIN_BYTES:
        problems.append(f"Use at least {MIN_BYTES} bytes (this is {size}).")
    if size > MAX_BYTES:
        problems.append(
            f"Use at most {MAX_BYTES} bytes of UTF-8 (this is {size}); "
            "accented letters take 2 bytes and emoji 4."
        )
    if password.isdigit():
        problems.append("Use something other than digits only.")
    folded = password.casefold()
    if username and folded == username.casefold():
        problems.append("Do not use your username as your password.")
    if email and folded == email.strip().casefold():
        problems.append("Do not use your email address as your password.")
    return problems


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` at the configured cost."""
    salt = bcrypt.gensalt(rounds=settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; with no hash it still spends bcrypt's time.

    Doing the same work for unknown accounts keeps login time from telling
    which usernames exist.
    """
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        # Never stored, so never a match; and bcrypt would refuse it anyway.
        encoded = encoded[:MAX_BYTES]
        password_hash = None
    target = password_hash or _dummy_hash()
    try:
        matched = bcrypt.checkpw(encoded, target.encode("ascii"))
    except ValueError:
        return False
    return matched and password_hash is not None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-only-for-timing")
