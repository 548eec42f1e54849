"""Mail: templates, one message shape, and interchangeable delivery backends.

Notifications are rendered from templates into a `MailMessage`, then handed to a `Mailer`.
The embedded default stores mail in a local mailbox the UI shows (`MailboxMailer` adapts the
store), a deployment relays it over SMTP (`SmtpMailer`); callers never know which.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import jinja2
from email_validator import EmailNotValidError, validate_email

# Headers the mailer sets itself; letting a caller set them would allow spoofing or duplicates.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "auto-submitted",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def new_message_id() -> str:
    """A globally unique Message-ID; callers pass a stable one to make retries recognisable."""
    return f"<{uuid.uuid4().hex}@clearway.local>"


def envelope_address(to: str) -> str:
    """The one bare address `to`, as it goes on the wire: all ASCII (the domain in IDNA form)
    whenever the local part allows, so any relay takes it; UTF-8 otherwise (`zoë@…`), which
    the SMTP client sends with SMTPUTF8 (RFC 6531). The same validator as registration, so
    every address an account can have can be written to."""
    try:
        checked = validate_email(to, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError("to must be a single e-mail address") from exc
    return checked.ascii_email or checked.normalized


def _check_single_line(value: str, what: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be a single line")


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One mail to one recipient, independent of how it is delivered.

    Validated on creation so that no backend can be tricked into header injection: `to` is a
    bare address (no display name, no list), subject and headers are single lines.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    template: str | None = None
    message_id: str = field(default_factory=new_message_id)

    def __post_init__(self) -> None:
        envelope_address(self.to)
        _check_single_line(self.subject, "subject")
        _check_single_line(self.message_id, "message_id")
        for name, value in self.headers.items():
            if not name or not all(33 <= ord(c) <= 126 and c != ":" for c in name):
                raise ValueError(f"invalid header name {name!r}")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by the mailer")
            _check_single_line(value, f"header {name!r}")


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The parts a template produced, not yet addressed to anyone."""

    template: str
    subject: str
    text: str
    html: str | None

    def addressed_to(
        self,
        to: str,
        *,
        headers: Mapping[str, str] | None = None,
        message_id: str | None = None,
    ) -> MailMessage:
        return MailMessage(
            to=to,
            subject=self.subject,
            text=self.text,
            html=self.html,
            headers=dict(headers or {}),
            template=self.template,
            message_id=message_id or new_message_id(),
        )


class MailTemplates:
    """Renders the templates of one directory: `name.subject.txt`, `name.txt`, `name.html`.

    HTML is autoescaped because contexts carry user input (names, messages); plain text and
    subjects are not, since escaping would only garble them. StrictUndefined makes a missing
    variable an error instead of a silently blank mail.
    """

    def __init__(self, directory: Path, *, subject_values: frozenset[str] | None = None) -> None:
        # Only these context values reach a subject when given: a subject is read before the
        # mail is opened and is where a stranger's text would be believed (phishing), so a
        # subject template that names any other value fails to render.
        self._subject_values = subject_values
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, /, **context: Any) -> RenderedMail:
        """Render template `name`; raises jinja2.TemplateNotFound or jinja2.UndefinedError.

        `name` is positional-only so that a context may itself contain a `name`.
        """
        # A subject is one header line: collapse whitespace so user input cannot break it.
        allowed = context
        if self._subject_values is not None:
            allowed = {k: v for k, v in context.items() if k in self._subject_values}
        subject_template = self._env.get_template(f"{name}.subject.txt")
        subject = " ".join(subject_template.render(allowed).split())
        text = self._env.get_template(f"{name}.txt").render(context)
        html_name = f"{name}.html"
        try:
            html_template = self._env.get_template(html_name)
        except jinja2.TemplateNotFound as exc:
            if exc.name != html_name:  # a template the html one includes is missing
                raise
            html = None
        else:
            html = html_template.render(context)
        return RenderedMail(template=name, subject=subject, text=text, html=html)


class MailDeliveryError(Exception):
    """A mail was not delivered. Raised, never swallowed: the calling consumer retries.

    `permanent` is true when the server refused for good (5xx), so a consumer may dead-letter
    the mail at once instead of spending its retries.
    """

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


class Mailer(Protocol):
    """Delivers a message or raises MailDeliveryError."""

    async def send(self, message: MailMessage) -> None: ...


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return True  # e.g. a UTF-8 address and a relay without SMTPUTF8: retrying cannot help
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and 500 <= exc.code < 600


class SmtpMailer:
    """Delivers through an SMTP relay, one connection per message.

    A connection per message keeps the mailer stateless (no pool to break or to share between
    event loops); notification volume is far below where that costs anything.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def _compose(self, message: MailMessage) -> EmailMessage:
        mime = EmailMessage()
        mime["From"] = self._sender
        mime["To"] = envelope_address(message.to)
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(datetime.now(UTC))
        mime["Message-ID"] = message.message_id
        # RFC 3834: tells auto-responders not to answer notifications.
        mime["Auto-Submitted"] = "auto-generated"
        for name, value in message.headers.items():
            mime[name] = value
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: MailMessage) -> None:
        mime = self._compose(message)
        try:
            # start_tls is passed as given: None would let aiosmtplib decide, and a relay that
            # stops offering STARTTLS must then fail rather than receive credentials in clear.
            await aiosmtplib.send(
                mime,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The recipient stays out of the message (it is personal data and this gets
            # logged); the chained cause keeps the server's full answer for debugging.
            code = getattr(exc, "code", None)
            raise MailDeliveryError(
                f"SMTP delivery via {self._host}:{self._port} failed: "
                f"{type(exc).__name__}" + (f" {code}" if code else ""),
                permanent=_is_permanent(exc),
            ) from exc


MailStore = Callable[[MailMessage], Awaitable[None]]


class MailboxMailer:
    """Adapts the local mailbox's store function to the Mailer protocol."""

    def __init__(self, store: MailStore) -> None:
        self._store = store

    async def send(self, message: MailMessage) -> None:
        try:
            await self._store(message)
        except MailDeliveryError:
            raise
        except Exception as exc:
            # Callers handle exactly one error type whichever backend is configured.
            raise MailDeliveryError(f"mailbox store failed: {type(exc).__name__}") from exc
