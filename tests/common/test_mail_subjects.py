"""User-supplied text never reaches a mail subject: the subject is read before the mail is
opened, and a stranger's words there would look like ours."""

from __future__ import annotations

import uuid
from pathlib import Path

import jinja2
import pytest

from clearway.kit.mail import MailTemplates
from clearway.services.common import TEMPLATE_DIR
from clearway.services.common.domain import SUBJECT_VALUES, TEMPLATES
from tests.conftest import Api
from tests.support import mails

PHISHING = "Your account is locked, call +1 555 0100 at evil.example"


def test_no_subject_template_shows_user_text() -> None:
    templates = MailTemplates(TEMPLATE_DIR, subject_values=SUBJECT_VALUES)
    covered = set()
    for event_type, (template, extras) in TEMPLATES.items():
        data = {
            "status": "pending",
            "expires_at": PHISHING,
            "order_id": uuid.uuid4().hex,
            "report_id": uuid.uuid4().hex,
            "clearance_id": uuid.uuid4().hex,
            "expires_on": "2027-01-31",
        }
        values = {"name": PHISHING, "public_url": "https://x", "link": PHISHING, **extras(data)}
        rendered = templates.render(template, **values)
        assert "evil" not in rendered.subject, (event_type, rendered.subject)
        assert rendered.subject.strip(), event_type
        covered.add(template)
    shipped = {p.name.removesuffix(".subject.txt") for p in TEMPLATE_DIR.glob("*.subject.txt")}
    assert covered == shipped


def test_a_subject_naming_user_text_fails_to_render(tmp_path: Path) -> None:
    (tmp_path / "bad.subject.txt").write_text("Hello {{ name }}")
    (tmp_path / "bad.txt").write_text("Hello {{ name }}")
    templates = MailTemplates(tmp_path, subject_values=SUBJECT_VALUES)
    with pytest.raises(jinja2.UndefinedError, match="name"):
        templates.render("bad", name=PHISHING)


@pytest.mark.asyncio
async def test_the_welcome_mail_keeps_the_name_out_of_the_subject(api: Api) -> None:
    assert (await api.register("subject@example.com", name=PHISHING)).status_code == 201
    [welcome] = await mails(api, "subject@example.com", "welcome")
    assert welcome["subject"] == "Welcome to Clearway"
    assert PHISHING in welcome["text"]
