"""Value types the contracts share: roles, and timestamps written the way they always were."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import PlainSerializer

Role = Literal["customer", "provider", "admin"]
"""An account's role."""

CallerRole = Literal["anonymous", "customer", "provider", "admin", "service"]
"""Who made a request, as the gateway authenticated them."""

IsoDatetime = Annotated[
    datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json")
]
"""A timestamp written with `isoformat()` (`+00:00`), as these payloads always carried it."""
