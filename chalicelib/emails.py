"""Email addresses: validated by email-validator (no DNS), compared lower-cased."""

from __future__ import annotations

MAX_LENGTH = 254


def normalize_email(value: str) -> str:
    """The address trimmed, checked and lower-cased; ``ValueError`` says why not.

    Lower-casing the local part is technically lossy, but no mail provider
    people use treats ``Ana@`` and ``ana@`` as two mailboxes, and users type
    both.
    """
    from email_validator import EmailNotValidError, validate_email

    text = value.strip()
    if not text:
        raise ValueError("Enter an email address.")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"An email address has at most {MAX_LENGTH} characters.")
    try:
        # test_environment admits the reserved ".test" names that sample data
        # and staging systems use; syntax is still checked in full.
        result = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return str(result.normalized).lower()
