"""multipart/form-data bodies, parsed by the standard library's email package.

It decodes RFC 2231/5987 file names (``filename*=UTF-8''Kontakte%20M%C3%A4rz.xlsx``)
and keeps file bytes as they were sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser

from chalicelib.errors import MalformedRequestError, UnsupportedMediaTypeError


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


def parse_form(content_type: str | None, body: bytes) -> Form:
    """The fields and files of a multipart/form-data body; 415 or 400 when it is not one."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"Send multipart/form-data (a form with a file), not {media_type or 'no type'}."
        )
    if "boundary=" not in (content_type or "").lower():
        raise MalformedRequestError("The multipart Content-Type has no boundary parameter.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise MalformedRequestError("The multipart body could not be read.")
    form = Form()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if name in form.files:
                raise MalformedRequestError(f"Send one file in '{name}', not several.")
            form.files[name] = UploadedFile(
                filename=filename, content_type=part.get_content_type(), data=data
            )
        else:
            form.fields[name] = _text(data, part.get_content_charset())
    return form


def _text(data: bytes, charset: str | None) -> str:
    """A form field's text in its declared charset; UTF-8 when it names none we know."""
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
