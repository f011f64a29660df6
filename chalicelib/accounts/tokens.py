"""JSON Web Tokens: HS256 only, with a small leeway for clock skew.

Claims: ``sub`` (user id), ``token_use`` (``access`` or ``refresh``, so one
can never stand in for the other), ``ver`` (the user's token version at
issue: a password reset bumps it and kills older tokens), ``jti``, ``iat``,
``exp``. PyJWT is imported on first use: it pulls in ``cryptography`` when
installed, which would double the API's cold start.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.config import jwt_secret, settings
from chalicelib.errors import AuthenticationError

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096

TokenUse = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    user_id: str
    token_use: TokenUse
    token_version: int
    token_id: str
    expires_at: int


def issue(user_id: str, token_version: int, token_use: TokenUse) -> tuple[str, TokenClaims]:
    """A signed token and its claims."""
    import jwt

    cfg = settings()
    lifetimes = {"access": cfg.access_token_minutes * 60, "refresh": cfg.refresh_token_days * 86400}
    lifetime = lifetimes[token_use]
    now = int(time.time())
    claims = TokenClaims(
        user_id=user_id,
        token_use=token_use,
        token_version=token_version,
        token_id=uuid.uuid4().hex,
        expires_at=now + lifetime,
    )
    payload = {
        "sub": user_id,
        "token_use": token_use,
        "ver": token_version,
        "jti": claims.token_id,
        "iat": now,
        "exp": claims.expires_at,
    }
    return jwt.encode(payload, jwt_secret(), algorithm=ALGORITHM), claims


def verify(token: str, expected_use: TokenUse) -> TokenClaims:
    """The claims of a valid token of the expected use; else a 401 error."""
    import jwt

    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationError("The token is missing or malformed.", code="invalid_token")
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            jwt_secret(),
            algorithms=[ALGORITHM],
            leeway=settings().jwt_leeway_seconds,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("The token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("The token is not valid.", code="invalid_token") from exc
    return _claims(payload, expected_use)


def _claims(payload: dict[str, Any], expected_use: TokenUse) -> TokenClaims:
    sub, use, ver = payload.get("sub"), payload.get("token_use"), payload.get("ver")
    if use != expected_use:
        raise AuthenticationError(
            f"A token for {expected_use} is required here.", code="invalid_token"
        )
    if not isinstance(sub, str) or not sub or not isinstance(ver, int) or isinstance(ver, bool):
        raise AuthenticationError("The token is not valid.", code="invalid_token")
    jti = payload.get("jti")
    exp = payload.get("exp")
    return TokenClaims(
        user_id=sub,
        token_use=expected_use,
        token_version=ver,
        token_id=jti if isinstance(jti, str) else "",
        expires_at=int(exp) if isinstance(exp, int | float) else 0,
    )
