"""Taking a document off the request: multipart (field `file`) or JSON with base64 content.

Multipart is streamed by the form parser into a temporary file (spilled to disk past 1 MiB), and
its size is checked before any of it is read into memory; a request that declares more than any
acceptable file needs is refused before its body is read at all.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from clearway.kit.problems import Problem
from clearway.services.orders.domain import TooLarge
from clearway.services.orders.schemas import AttachmentJson

# Room for the form's boundaries and part headers, or the JSON around the base64 text.
ENVELOPE_BYTES = 64 * 1024


def too_large(size: int, max_bytes: int) -> TooLarge:
    return TooLarge(
        "file-too-large",
        f"The file has {size} bytes; at most {max_bytes} are accepted.",
        size=size,
        max_bytes=max_bytes,
    )


def _refuse_declared(request: Request, most: int, max_bytes: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise TooLarge(
            "file-too-large",
            f"The request has {declared} bytes, more than a file of at most {max_bytes} bytes "
            "needs.",
            size=int(declared),
            max_bytes=max_bytes,
        )


async def read_upload(request: Request, max_bytes: int) -> tuple[str, str, bytes]:
    """The file name, declared type and content of the uploaded document."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        _refuse_declared(request, max_bytes + ENVELOPE_BYTES, max_bytes)
        try:
            form = await request.form(max_files=1, max_fields=5)
        except AssertionError as exc:  # python-multipart is not installed
            raise Problem(415, detail="Send the file as JSON with base64 content.") from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, detail="Send the document in the form field `file`.", type="file")
        if upload.size is not None and upload.size > max_bytes:
            raise too_large(upload.size, max_bytes)
        return upload.filename or "", upload.content_type or "", await upload.read()
    if kind == "application/json":
        _refuse_declared(request, 4 * (max_bytes // 3 + 1) + ENVELOPE_BYTES, max_bytes)
        try:
            body = AttachmentJson.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                for e in exc.errors()
            ]
            raise Problem(
                422,
                "Invalid request",
                "One or more fields are invalid.",
                type="validation",
                errors=errors,
            ) from exc
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Problem(422, detail="content_base64 is not valid base64.", type="file") from exc
        return body.filename, body.content_type, content
    raise Problem(
        415, detail="Upload as multipart/form-data or application/json.", type="media-type"
    )
