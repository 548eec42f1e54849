"""Query parameters the routes share, and the response the hot paths answer with."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query
from starlette.responses import Response

from clearway.services.rules.schemas import EARLIEST, LATEST
from clearway.services.rules.views import encode

Market = Annotated[str, Query(min_length=2, max_length=60, description="EU, US, DE, Japan …")]
HsCode = Annotated[
    str | None,
    Query(max_length=20, description="85, 8518, 8518.22, or a national line like 8518.22.00"),
]
CategoryId = Annotated[str | None, Query(max_length=64)]
Text = Annotated[str | None, Query(max_length=200, description="Free text, typos welcome")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=10_000)]
AsOf = Annotated[
    date | None,
    Query(ge=EARLIEST, le=LATEST, description="The rules in force on this date (default today)"),
]


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The hot paths skip response-model validation: orjson straight to bytes."""
    return Response(
        encode(body), status_code=status, media_type="application/json", headers=headers
    )
