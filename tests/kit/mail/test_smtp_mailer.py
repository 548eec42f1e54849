"""SmtpMailer against a real SMTP server (aiosmtpd on 127.0.0.1, ephemeral port)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from clearway.kit.mail import MailDeliveryError, MailMessage, SmtpMailer

SENDER = "no-reply@clearway.example"


class EphemeralController(Controller):
    """Listens on port 0 and learns the port the OS picked before probing the server."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class Collector:
    """An SMTP handler that keeps every envelope, or answers DATA/RCPT with a fixed reply."""

    def __init__(self, rcpt_reply: str | None = None, data_reply: str = "250 OK") -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.envelopes: list[Any] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return self.data_reply


StartServer = Callable[..., Controller]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    started: list[Controller] = []

    def start(handler: Collector, **kwargs: Any) -> Controller:
        controller = EphemeralController(handler, hostname="127.0.0.1", port=0, **kwargs)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that is bound but not listening, so nothing else can take it during the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def message(**overrides: Any) -> MailMessage:
    fields: dict[str, Any] = {
        "to": "provider@example.com",
        "subject": "New order O-1",
        "text": "You have a new order.\n",
        "html": "<p>You have a <b>new</b> order.</p>\n",
        "headers": {"X-Clearway-Event": "order.created"},
        "message_id": "<order-O-1@clearway.example>",
    }
    fields.update(overrides)
    return MailMessage(**fields)


def content(part: MIMEPart | None) -> str:
    """A part's text with the wire's CRLF line ends turned back into the template's LF."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def received(envelope: Any) -> EmailMessage:
    parsed = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_delivers_text_and_html(smtp_server: StartServer) -> None:
    handler = Collector()
    server = smtp_server(handler)
    mailer = SmtpMailer("127.0.0.1", server.port, SENDER)

    await mailer.send(message())

    [envelope] = handler.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["provider@example.com"]
    mail = received(envelope)
    assert mail["To"] == "provider@example.com"
    assert mail["Subject"] == "New order O-1"
    assert mail["Message-ID"] == "<order-O-1@clearway.example>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Clearway-Event"] == "order.created"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    assert content(mail.get_body(preferencelist=("plain",))) == "You have a new order.\n"
    assert content(mail.get_body(preferencelist=("html",))) == (
        "<p>You have a <b>new</b> order.</p>\n"
    )


async def test_text_only_mail_is_not_multipart(smtp_server: StartServer) -> None:
    handler = Collector()
    server = smtp_server(handler)

    await SmtpMailer("127.0.0.1", server.port, SENDER).send(message(html=None))

    mail = received(handler.envelopes[0])
    assert mail.get_content_type() == "text/plain"
    assert content(mail) == "You have a new order.\n"


async def test_logs_in_with_credentials(smtp_server: StartServer) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    handler = Collector()
    server = smtp_server(handler, authenticator=authenticator, auth_require_tls=False)

    await SmtpMailer("127.0.0.1", server.port, SENDER, username="relay", password="s3cret").send(
        message()
    )
    assert logins == [(b"relay", b"s3cret")]
    assert len(handler.envelopes) == 1

    wrong = SmtpMailer("127.0.0.1", server.port, SENDER, username="relay", password="nope")
    with pytest.raises(MailDeliveryError) as caught:
        await wrong.send(message())
    assert caught.value.permanent
    assert len(handler.envelopes) == 1


async def test_refused_connection_raises(closed_port: int) -> None:
    mailer = SmtpMailer("127.0.0.1", closed_port, SENDER, timeout=2)

    with pytest.raises(MailDeliveryError) as caught:
        await mailer.send(message())
    assert not caught.value.permanent


async def test_silent_server_times_out(silent_port: int) -> None:
    mailer = SmtpMailer("127.0.0.1", silent_port, SENDER, timeout=0.3)

    started = time.monotonic()
    with pytest.raises(MailDeliveryError) as caught:
        await mailer.send(message())
    assert time.monotonic() - started < 30  # the silent server never answers: the timeout did
    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("handler", "permanent"),
    [
        (Collector(rcpt_reply="550 5.1.1 No such user"), True),
        (Collector(data_reply="550 5.7.1 Message rejected"), True),
        (Collector(data_reply="451 4.3.0 Try again later"), False),
    ],
    ids=["rcpt-550", "data-550", "data-451"],
)
async def test_server_refusal_raises(
    smtp_server: StartServer, handler: Collector, permanent: bool
) -> None:
    server = smtp_server(handler)
    mailer = SmtpMailer("127.0.0.1", server.port, SENDER)

    with pytest.raises(MailDeliveryError) as caught:
        await mailer.send(message())
    assert caught.value.permanent is permanent
    assert "provider@example.com" not in str(caught.value)


async def test_required_starttls_is_not_silently_skipped(smtp_server: StartServer) -> None:
    handler = Collector()
    server = smtp_server(handler)  # offers no STARTTLS
    mailer = SmtpMailer("127.0.0.1", server.port, SENDER, starttls=True)

    with pytest.raises(MailDeliveryError):
        await mailer.send(message())
    assert handler.envelopes == []


async def test_a_utf8_address_needs_a_relay_with_smtputf8(smtp_server: StartServer) -> None:
    """Without SMTPUTF8 the relay can never take `zoë@…`: a permanent failure, not retries."""
    handler = Collector()
    server = smtp_server(handler, enable_SMTPUTF8=False)
    with pytest.raises(MailDeliveryError) as failure:
        await SmtpMailer("127.0.0.1", server.port, SENDER).send(message(to="zoë@exämple.org"))
    assert failure.value.permanent
    # The domain alone is no obstacle: it goes out in its IDNA form.
    await SmtpMailer("127.0.0.1", server.port, SENDER).send(message(to="ann@exämple.org"))
    assert handler.envelopes[0].rcpt_tos == ["ann@xn--exmple-cua.org"]
