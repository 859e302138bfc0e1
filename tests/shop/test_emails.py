"""The outbox (shop/emails.py, shop/tasks.py): stored first, sent after commit, retried, resent, swept."""

import datetime as dt
import smtplib

import pytest
import time_machine
from celery.exceptions import Retry
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shop import email_delivery
from shop.email_delivery import email_deliver, register_attachment_builder
from shop.emails import email_queue
from shop.models import Email
from shop.tasks import MAX_ATTEMPTS, email_send, emails_retry_unsent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class FlakyBackend(LocmemBackend):
    """Fails ``failures_left`` times with an SMTP error, then delivers to mail.outbox."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures_left = 0
    yield FlakyBackend
    FlakyBackend.failures_left = 0


@pytest.fixture
def templates(settings, tmp_path):
    """A tiny e-mail template of the tests' own, so these tests do not depend on app templates."""
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "hello.subject.txt").write_text("Hello {{ name }}\n")
    (folder / "hello.txt").write_text("Dear {{ name }}, {{ policy.shop_name }} says hi.")
    (folder / "hello.html").write_text("<p>Dear {{ name }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def _queue(**kwargs):
    return email_queue(to="anna@example.com", template="hello", context={"name": "Анна"}, **kwargs)


def test_email_is_stored_then_sent_only_after_commit(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = _queue(key="greeting:1")
    assert Email.objects.get(pk=email.pk).status == Email.Status.QUEUED
    assert email.subject == "Hello Анна"
    assert mail.outbox == []  # nothing leaves before commit
    for callback in callbacks:
        callback()
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.sent_at is not None and email.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body == "Dear Анна, Rusoptics says hi."
    assert mail.outbox[0].alternatives[0][0] == "<p>Dear Анна</p>"


def test_email_key_makes_queuing_idempotent(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _queue(key="greeting:2")
        second = _queue(key="greeting:2")
    assert first.pk == second.pk
    assert len(mail.outbox) == 1


def test_rolled_back_email_is_neither_stored_nor_sent(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _queue(key="greeting:3")
        raise RuntimeError("the order failed")
    assert not Email.objects.exists()
    assert mail.outbox == []


def test_failed_send_marks_failed_with_the_error(templates, flaky, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = _queue()
    flaky.failures_left = 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED
    assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert email.attempts == 1
    assert mail.outbox == []


def test_celery_task_asks_for_a_retry_with_backoff_when_sending_fails(
    templates, flaky, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        email = _queue()
    flaky.failures_left = 1
    with pytest.raises(Retry) as info:
        email_send.delay(email.pk)
    assert 0 <= info.value.when <= 30  # up to 30 s (full jitter), doubling with each retry
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED and email.attempts == 1
    assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"


def test_celery_task_gives_up_after_its_retries_and_leaves_the_email_failed_for_the_sweep(
    templates, flaky, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        email = _queue()
    flaky.failures_left = 1
    # The sixth run (five retries done) re-raises the send error instead of asking for a retry.
    with pytest.raises(smtplib.SMTPServerDisconnected):
        email_send.apply(args=[email.pk], retries=email_send.max_retries, throw=True)
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED and email.attempts == 1
    assert mail.outbox == []


def test_celery_task_retry_sends_it(templates, flaky, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = _queue()
    flaky.failures_left = 1
    # throw=False: the eager runner performs the retry the worker would schedule.
    email_send.apply(args=[email.pk], throw=False)
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert email.attempts == 2
    assert email.last_error == ""
    assert len(mail.outbox) == 1


def test_sent_email_is_never_sent_twice(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = _queue()
    email_send.delay(email.pk)
    assert len(mail.outbox) == 1


def test_attachment_is_built_at_send_time_once(templates, django_capture_on_commit_callbacks, flaky):
    built = []

    def builder(ref):
        built.append(ref)
        return f"doc-{ref}.pdf", b"%PDF-1.7 test", "application/pdf"

    register_attachment_builder("tests.doc", builder)
    try:
        with django_capture_on_commit_callbacks(execute=False):
            email = _queue(attachment_builder="tests.doc", attachment_ref="7")
        assert built == []  # never built in the request
        flaky.failures_left = 1
        email_send.apply(args=[email.pk], throw=False)  # fails once, retried
    finally:
        email_delivery._attachment_builders.pop("tests.doc", None)
    assert built == ["7"]
    assert mail.outbox[0].attachments == [("doc-7.pdf", b"%PDF-1.7 test", "application/pdf")]


def test_staff_resend_action_sends_a_failed_email_again(templates, flaky, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = _queue()
    flaky.failures_left = 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        email_deliver(email_id=email.pk)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:shop_email_changelist"),
            {"action": "send_again", ACTION_CHECKBOX_NAME: [email.pk]},
            follow=True,
        )
    assert "queued to be sent again" in response.content.decode()
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 2
    assert len(mail.outbox) == 1


def test_sweep_resends_stale_queued_and_failed_emails_only(templates, flaky, django_capture_on_commit_callbacks):
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(minutes=30)), django_capture_on_commit_callbacks(execute=False):
        stale = _queue(key="stale")  # broker was down: never sent
        failed = _queue(key="failed")
    Email.objects.filter(pk=failed.pk).update(status=Email.Status.FAILED, attempts=1, last_error="boom")
    with django_capture_on_commit_callbacks(execute=False):
        fresh = _queue(key="fresh")  # its own task will send it; the sweep leaves it alone

    assert emails_retry_unsent.delay().get() == 2
    assert {m.to[0] for m in mail.outbox} == {"anna@example.com"}
    assert len(mail.outbox) == 2
    states = dict(Email.objects.values_list("key", "status"))
    assert states == {"stale": "sent", "failed": "sent", "fresh": "queued"}
    assert emails_retry_unsent.delay().get() == 0  # nothing left: running again sends nothing
    assert Email.objects.get(pk=fresh.pk).attempts == 0
    assert Email.objects.get(pk=stale.pk).attempts == 1


def test_sweep_stops_at_max_attempts(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        spent = _queue(key="spent")
        last_chance = _queue(key="last-chance")
    Email.objects.filter(pk=spent.pk).update(status=Email.Status.FAILED, attempts=MAX_ATTEMPTS)
    Email.objects.filter(pk=last_chance.pk).update(status=Email.Status.FAILED, attempts=MAX_ATTEMPTS - 1)

    assert emails_retry_unsent.delay(margin_seconds=0).get() == 1
    states = dict(Email.objects.values_list("key", "status"))
    assert states == {"spent": "failed", "last-chance": "sent"}
    assert len(mail.outbox) == 1
