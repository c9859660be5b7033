"""Documents in and out of the REST edge: bounded multipart uploads, safe downloads.

An upload is parsed from a body whose size is capped while it streams in, so an
oversized document is refused with 413 before it is buffered whole or sent to a
backend. A download goes out as an attachment that no browser renders in our
origin or sniffs into another type, and whose filename cannot add a header.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from starlette.datastructures import UploadFile
from starlette.types import Message

from gateway.problems import Problem

#: Room for the multipart framing around the document (boundaries, part headers).
MULTIPART_OVERHEAD_BYTES = 16 * 1024
FILE_FIELD = "file"
FALLBACK_CONTENT_TYPE = "application/octet-stream"
FALLBACK_FILENAME = "contract"

# ``type/subtype`` made of RFC 9110 token characters: anything else (parameters,
# CR/LF) is not sent as a Content-Type header.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")

UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {FILE_FIELD: {"type": "string", "format": "binary"}},
            }
        }
    },
}


def too_large(limit: int) -> Problem:
    return Problem(413, "payload_too_large", f"a contract may be at most {limit} bytes")


def content_disposition(filename: str) -> str:
    """``attachment`` with the name percent-encoded (RFC 6266/8187): whatever the stored
    name holds — quotes, CR/LF, ``;`` — it stays inside one parameter value."""
    return f"attachment; filename*=UTF-8''{quote(filename or FALLBACK_FILENAME, safe='')}"


async def read_upload(request: Request, limit: int) -> tuple[UploadFile, bytes]:
    """The ``file`` part and at most ``limit`` bytes of it, or 413 if it holds more."""
    body_limit = limit + MULTIPART_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise too_large(limit)
    received = 0

    async def bounded_receive() -> Message:
        # Counts what arrives, so a chunked body without a length is capped too.
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > body_limit:
            raise too_large(limit)
        return message

    form = await Request(request.scope, bounded_receive).form(max_files=1, max_fields=1)
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise Problem(
                422,
                "validation_error",
                "the request is not valid; see errors",
                extra={
                    "errors": [{"field": f"body.{FILE_FIELD}", "message": "a file is required"}]
                },
            )
        content = await upload.read(limit + 1)
    finally:
        await form.close()
    if len(content) > limit:
        raise too_large(limit)
    return upload, content


def attachment(content: bytes, content_type: str, filename: str) -> Response:
    """A stored document as a download no browser renders in our origin or sniffs."""
    if not _MEDIA_TYPE.fullmatch(content_type):
        content_type = FALLBACK_CONTENT_TYPE
    return Response(
        content=content,
        headers={
            # Set as a header rather than ``media_type``, which would append a charset
            # to text/* that the document may not be in.
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
