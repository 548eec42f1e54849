"""Typed events: the base every contract in `clearway.contracts` builds on.

An event class names its CloudEvents `TYPE`, the `SOURCE` that publishes it, a schema
`VERSION` and, in `SUBJECT`, the field that becomes the envelope's subject. Its fields are the
payload, exactly as it travels as JSON. A consumer validates what it receives against its own
class: a payload that does not fit is `Undeliverable` and goes straight to the dead letters.

Schema evolution: a new version may add optional fields only. Unknown fields are ignored, so an
older consumer reads a newer payload, and a newer consumer reads an older one (the added
fields take their defaults).

Validating costs microseconds per event, which the high-volume telemetry (a record per request)
would pay on every request for values its producer already holds typed. An event whose fields are
all JSON scalars (`SCALAR_FIELDS`) can skip it: `kit.bus.telemetry` sends such values as a row in
the order of the class's fields, which stay the one definition of the payload, and the consumer
validates what it receives as for any event.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from clearway.kit.bus.bus import Undeliverable
from clearway.kit.bus.events import CloudEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class Event(BaseModel):
    """One kind of event; subclasses set the class attributes and declare the payload."""

    TYPE: ClassVar[str]
    SOURCE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    SUBJECT: ClassVar[str | None] = None
    """The payload field whose value is the envelope's subject (what the event is about)."""
    SCALAR_FIELDS: ClassVar[tuple[str, ...] | None] = None
    """The payload's fields in order when each is a JSON scalar that validation writes as it is
    (no constraints, no serializers), so that values of the fields' types can be sent without
    validation (see `kit.bus.telemetry`); None when one is not."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)

    _envelope: CloudEvent | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields, decorators = cls.model_fields, cls.__pydantic_decorators__
        dumped_as_given = not decorators.field_serializers and not decorators.model_serializers
        scalar = all(
            _json_scalar(field.annotation) and not field.metadata for field in fields.values()
        )
        cls.SCALAR_FIELDS = tuple(fields) if scalar and dumped_as_given else None

    def payload(self) -> dict[str, Any]:
        """The payload as JSON values, with the fields that were given (so optional fields
        left out stay out of the wire format)."""
        everything = len(self.model_fields_set) == len(type(self).model_fields)
        return self.model_dump(mode="json", exclude_unset=not everything)  # the former is faster

    def to_cloudevent(self) -> CloudEvent:
        subject = getattr(self, self.SUBJECT) if self.SUBJECT else None
        return CloudEvent.new(self.SOURCE, self.TYPE, self.payload(), subject=subject)

    @classmethod
    def decode(cls, event: CloudEvent) -> Self:
        """The typed event an envelope carries; `Undeliverable` if its payload does not fit."""
        try:
            typed = cls.model_validate(event.data)
        except ValidationError as error:
            raise Undeliverable(f"{cls.TYPE} v{cls.VERSION}: {error}") from error
        typed._envelope = event
        return typed

    @property
    def envelope(self) -> CloudEvent:
        """The envelope this event arrived in (id, time, subject), or a new one for it."""
        if self._envelope is None:
            self._envelope = self.to_cloudevent()
        return self._envelope


def _json_scalar(annotation: Any) -> bool:
    """Whether values of this type are dumped to JSON as they are: str, int, float, bool, None,
    literals of them, and unions of those."""
    origin = get_origin(annotation)
    if origin is Literal:
        return all(
            value is None or type(value) in (str, int, bool) for value in get_args(annotation)
        )
    if origin in (Union, types.UnionType):
        return all(_json_scalar(arg) for arg in get_args(annotation))
    return annotation in (str, int, float, bool, None, type(None))


EventHandler = Callable[[Any, "AsyncSession"], Awaitable[None]]
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Subscription:
    """React to events of the given classes, each handed over typed (see `subscribe`)."""

    events: tuple[type[Event], ...]
    handler: EventHandler

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(event.TYPE for event in self.events)

    def accepts(self, event_type: str) -> bool:
        return any(event_type == event.TYPE for event in self.events)

    async def handle(self, event: CloudEvent, session: AsyncSession) -> None:
        """Validate `event` against its class and apply it; `Undeliverable` if it does not fit."""
        for kind in self.events:
            if event.type == kind.TYPE:
                await self.handler(kind.decode(event), session)
                return


def subscribe(
    events: type[E] | Sequence[type[E]],
    handler: Callable[[E, AsyncSession], Awaitable[None]],
) -> Subscription:
    """`subscribe(OrderCreated, handler)`: the handler receives an `OrderCreated`."""
    kinds = (events,) if isinstance(events, type) else tuple(events)
    if not kinds:
        raise ValueError("subscribe to at least one event class")
    return Subscription(kinds, handler)
