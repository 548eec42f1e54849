"""Templates render safely, messages refuse header injection, the mailbox adapter never swallows."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from clearway.kit.mail import (
    MailMessage,
    MailTemplates,
)


@pytest.fixture
def templates(tmp_path: Path) -> MailTemplates:
    files = {
        "order_created.subject.txt": "New order {{ order_id }} from {{ name }}\n",
        "order_created.txt": "Hello,\n{{ name }} wrote: {{ note }}\n",
        "order_created.html": "<p>{{ name }} wrote: {{ note }}</p>\n",
        "plain.subject.txt": "Plain",
        "plain.txt": "Only text for {{ name }}.",
        "broken.subject.txt": "Broken",
        "broken.txt": "text",
        "broken.html": "{% include 'missing_partial.html' %}",
    }
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    return MailTemplates(tmp_path)


def test_render_escapes_html_but_not_text(templates: MailTemplates) -> None:
    rendered = templates.render(
        "order_created", order_id="O-1", name="Ann & Co", note="<script>x()</script>"
    )

    assert rendered.template == "order_created"
    assert rendered.subject == "New order O-1 from Ann & Co"
    assert rendered.text == "Hello,\nAnn & Co wrote: <script>x()</script>\n"
    assert rendered.html == "<p>Ann &amp; Co wrote: &lt;script&gt;x()&lt;/script&gt;</p>\n"


def test_html_part_is_optional(templates: MailTemplates) -> None:
    rendered = templates.render("plain", name="Ann")

    assert rendered.text == "Only text for Ann."
    assert rendered.html is None


def test_missing_variable_is_an_error(templates: MailTemplates) -> None:
    with pytest.raises(jinja2.UndefinedError):
        templates.render("order_created", order_id="O-1", name="Ann")


def test_missing_template_is_an_error(templates: MailTemplates) -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        templates.render("no_such_template")


def test_missing_include_in_html_is_not_mistaken_for_no_html(templates: MailTemplates) -> None:
    with pytest.raises(jinja2.TemplateNotFound, match="missing_partial"):
        templates.render("broken")


def test_user_input_cannot_break_the_subject_line(templates: MailTemplates) -> None:
    rendered = templates.render(
        "order_created", order_id="O-1", name="Eve\r\nBcc: victim@example.com", note=""
    )

    assert rendered.subject == "New order O-1 from Eve Bcc: victim@example.com"


def test_addressed_to_makes_a_message(templates: MailTemplates) -> None:
    rendered = templates.render("plain", name="Ann")

    message = rendered.addressed_to(
        "ann@example.com", headers={"Reply-To": "desk@example.com"}, message_id="<1@x>"
    )

    assert message == MailMessage(
        to="ann@example.com",
        subject="Plain",
        text="Only text for Ann.",
        headers={"Reply-To": "desk@example.com"},
        template="plain",
        message_id="<1@x>",
    )
    assert rendered.addressed_to("a@example.com").message_id.startswith("<")
    assert (
        rendered.addressed_to("a@example.com").message_id
        != rendered.addressed_to("a@example.com").message_id
    )


@pytest.mark.parametrize(
    "to",
    [
        "",
        "nobody",
        "Ann <ann@example.com>",
        "a@example.com, b@example.com",
        "a@example.com\r\nBcc: b@example.com",
    ],
)
def test_message_needs_one_bare_address(to: str) -> None:
    with pytest.raises(ValueError):
        MailMessage(to=to, subject="s", text="t")


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("two\nlines", {}),
        ("s", {"X-Tag": "a\r\nBcc: b@example.com"}),
        ("s", {"Bcc": "b@example.com"}),
        ("s", {"from": "ceo@example.com"}),
        ("s", {"Bad Name": "v"}),
        ("s", {"": "v"}),
    ],
)
def test_message_refuses_header_injection(subject: str, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        MailMessage(to="a@example.com", subject=subject, text="t", headers=headers)
