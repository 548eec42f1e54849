"""Structured logs: one JSON object per line, carrying the id of the request being served.

The gateway binds the request id (`request_id_var`) for the duration of a request; every
record logged meanwhile, in any module or service called in-process, carries it, so one
request's lines can be found across the platform.
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("clearway_request_id", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
PLAIN_FORMAT = "%(levelname)s %(name)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Copies the current request id onto the record (for plain-text formats too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            document["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id":
                document[key] = value
        if record.exc_info:
            document["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(
            document, default=str, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
        ).decode()


def configure_logging(level: str, json: bool) -> None:
    """Send the root logger's records to stderr, as JSON lines or as plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
