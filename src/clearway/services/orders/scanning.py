"""What an uploaded document may be: an allowlist of types, checked against the content itself,
and a scanning hook that can refuse a file (a real virus scanner plugs in as a `Scanner`)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from clearway.services.orders.domain import Invalid, TooLarge

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# type -> file name extensions it may carry
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt",),
    "text/csv": (".csv",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
}
_FILENAME = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,200}$")
# The EICAR anti-virus test file: every scanner must flag it, so ours does too.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE
    b"\x7fELF",  # Linux ELF
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # scripts
)


def sniff(content: bytes) -> str | None:
    """The allowed type the bytes really are, whatever the uploader said, or None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    if _is_text(content):
        return "text/plain"
    return None


def _office_type(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("word/") for n in names):
        return DOCX
    if any(n.startswith("xl/") for n in names):
        return XLSX
    return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


def check_upload(filename: str, declared: str, content: bytes, max_bytes: int) -> Upload:
    """The upload if its name, size, declared type and real content agree; else `Invalid`."""
    if not _FILENAME.match(filename) or filename.strip(" .") == "":
        raise Invalid("bad-filename", "The file name is empty, too long or has odd characters.")
    if not content:
        raise Invalid("empty-file", "The file is empty.")
    if len(content) > max_bytes:
        raise TooLarge(
            "file-too-large",
            f"The file has {len(content)} bytes; at most {max_bytes} are accepted.",
            size=len(content),
            max_bytes=max_bytes,
        )
    declared = declared.split(";")[0].strip().lower()
    if declared not in ALLOWED:
        raise Invalid(
            "file-type-not-allowed",
            f"Files of type {declared or 'unknown'} are not accepted.",
            allowed=sorted(ALLOWED),
        )
    extension = PurePosixPath(filename).suffix.lower()
    if extension not in ALLOWED[declared]:
        raise Invalid("file-type-mismatch", f"A {declared} file cannot be named {extension!r}.")
    actual = sniff(content)
    # Text sniffs as plain text; a CSV is text whose name and declared type say CSV.
    if actual == "text/plain" and declared == "text/csv":
        actual = declared
    if actual != declared:
        raise Invalid(
            "file-type-mismatch", f"The content is not what it claims to be ({declared})."
        )
    return Upload(filename, declared, content)


@dataclass(frozen=True)
class Verdict:
    clean: bool
    reason: str | None = None


class Scanner(Protocol):
    """Looks at a file before it is stored; a file it finds unclean is refused."""

    async def scan(self, upload: Upload) -> Verdict: ...


class SignatureScanner:
    """The built-in scanner: the EICAR test signature and executables, anywhere in the file
    (executables also inside office archives)."""

    async def scan(self, upload: Upload) -> Verdict:
        if EICAR in upload.content:
            return Verdict(False, "it contains a known malware signature (EICAR test file)")
        if upload.content.startswith(_EXECUTABLE_MAGIC):
            return Verdict(False, "it is an executable program")
        if upload.content_type in (DOCX, XLSX) and _has_macros_or_programs(upload.content):
            return Verdict(False, "it contains macros or programs")
        return Verdict(True)


def _has_macros_or_programs(content: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for info in archive.infolist():
            name = info.filename.lower()
            if name.endswith(("vbaproject.bin", ".exe", ".dll", ".js", ".vbs", ".bat", ".cmd")):
                return True
    return False
