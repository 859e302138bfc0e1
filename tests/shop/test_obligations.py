"""Obligations survive a crash (shop/obligations.py): the row is committed with the change, its task
is queued after commit, and the periodic sweep queues again whatever a lost task left pending."""

import datetime as dt
import logging

import pytest
import time_machine
from celery import Celery
from django.core import mail

from orders.notifications import order_acknowledgement_queue
from shop.models import Email
from shop.obligations import SWEEP_MARGIN_SECONDS, enqueue_after_commit
from shop.tasks import emails_retry_unsent
from tests.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


def test_ord_ack_lost_between_commit_and_queuing_is_sent_once_by_the_sweep(django_capture_on_commit_callbacks):
    """ORD-ACK: the process dies after the order's transaction commits but before its on-commit
    callbacks run, so the send task is never queued. The e-mail row was committed with the order:
    once it has been pending past the margin, the sweep sends the acknowledgement, exactly once."""
    order = OrderLineFactory().order
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # discarded: the process "died"
        email = order_acknowledgement_queue(order=order)
    assert callbacks, "queuing the send should have waited for the commit"
    assert mail.outbox == []
    assert Email.objects.get(pk=email.pk).status == Email.Status.QUEUED

    # Within the margin the sweep leaves the e-mail to the task queued at commit.
    assert emails_retry_unsent.delay().get() == 0
    assert mail.outbox == []

    with time_machine.travel(email.created_at + dt.timedelta(seconds=SWEEP_MARGIN_SECONDS + 1)):
        assert emails_retry_unsent.delay().get() == 1
        assert len(mail.outbox) == 1
        assert emails_retry_unsent.delay().get() == 0  # a second sweep finds nothing pending

    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    assert message.to == [order.email]
    assert message.subject.startswith(f"Your order {order.number} at ")
    ((filename, content, mimetype),) = message.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 1


@pytest.fixture
def broker_down():
    """A Celery app whose broker refuses connections (nothing listens on port 1), failing at once."""
    app = Celery("broker-down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.task_publish_retry = False
    app.conf.broker_transport_options = {"max_retries": 0}
    yield app
    app.close()


def test_enqueue_after_commit_logs_a_refused_broker_instead_of_raising(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    @broker_down.task(name="tests.partner_notify")
    def partner_notify(notice_id: int) -> None:
        raise AssertionError("never runs: the broker is down")

    with (
        caplog.at_level(logging.ERROR, logger="shop.obligations"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        enqueue_after_commit(partner_notify, 42)
    assert len(callbacks) == 1  # it waited for the commit, and running it did not raise

    (record,) = [r for r in caplog.records if r.name == "shop.obligations"]
    assert record.getMessage() == "Could not queue tests.partner_notify(42,); the periodic sweep will queue it again"
    assert "Connection refused" in str(record.exc_info[1])
