"""Order flows end to end through a REAL Celery worker and beat (subprocesses), PostgreSQL and Redis.

The test process plays the web server (Django's test client, committed transactions) and never runs a
task itself: ``tests/conftest.py`` leaves Celery non-eager for tests marked ``integration``, and every
test here checks that. Mail is what the worker wrote with Django's file backend (``mail_dir``).

Run with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> REDIS_URL=redis://127.0.0.1:6379/7 \\
        REQUIRE_SERVICES=1 .venv/bin/pytest tests/integration/test_order_flow_processes.py
"""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from orders.models import Order, OrderEvent, OrderHold
from orders.services import order_price_error_mark
from payments.models import Payment
from shop.models import Email
from tests.integration.conftest import wait_until
from tests.integration.order_flow_support import (
    binocular,
    body_text,
    every_second,
    messages_with_subject,
    parsed_messages,
    pdf_attachments,
    pdf_text,
    task_results,
    web_checkout,
)
from tests.orders.checkout_support import make_catalogue
from tests.payments.payment_support import make_order, start_paypal

PRICE_TASK = "orders.tasks.orders_cancel_unanswered_price_errors"
RECONCILE_TASK = "payments.tasks.payments_reconcile_stale"


@pytest.fixture(autouse=True)
def _not_eager():
    """The test process only queues: a task run here instead of in the worker would prove nothing."""
    assert celery_app.conf.task_always_eager is False
    yield
    assert mail.outbox == [], "the test process sent mail itself: Celery ran eagerly in the test process"


def _email_status(key: str) -> str | None:
    return Email.objects.filter(key=key).values_list("status", flat=True).first()


def _assert_acknowledgement(mail_dir, tmp_path, order: Order) -> None:
    """ORD-ACK: exactly one acknowledgement with the order number and the PDF invoice attached."""
    acks = messages_with_subject(mail_dir, f"Your order {order.number} at ")
    assert len(acks) == 1, [str(m["Subject"]) for m in parsed_messages(mail_dir)]
    ack = acks[0]
    assert str(ack["To"]) == order.email
    assert f"we have registered your order {order.number}" in body_text(ack)
    [(filename, content)] = pdf_attachments(ack)
    assert order.number in filename
    assert content.startswith(b"%PDF")
    assert f"Invoice {order.number}" in pdf_text(content, tmp_path)
    assert _email_status(f"order-ack:{order.pk}") == Email.Status.SENT


def test_ord_ack_order_confirmed_through_the_web_is_acknowledged_by_the_worker(
    client, celery_worker_process, mail_dir, tmp_path
):
    """ORD-ACK: a guest walks contact → delivery → "Cash to the courier" → review → "Confirm order";
    the real worker (not the web process) sends the acknowledgement once, with the PDF invoice."""
    cat = make_catalogue()
    product = binocular()

    order = web_checkout(client, cat=cat, product=product, email_address="anna@example.com")
    assert order.status == Order.Status.PROCESSING
    assert order.lines.get().product_name == "Binocular 10x50"

    wait_until(
        lambda: _email_status(f"order-ack:{order.pk}") == Email.Status.SENT,
        timeout=45,
        message="the acknowledgement to be sent by the worker",
    )
    _assert_acknowledgement(mail_dir, tmp_path, order)
    assert len(parsed_messages(mail_dir)) == 1
    # The worker logs the task's result just after committing the sent status.
    results = wait_until(
        lambda: task_results(celery_worker_process.log(), "shop.tasks.email_send"),
        message="the worker to log the send",
    )
    assert results == ["True"]

    # The thank-you page the browser lands on shows the order.
    page = client.get(reverse("orders:placed", kwargs={"number": order.number})).content.decode()
    assert order.number in page and "Binocular 10x50" in page


def test_ord_price_error_unanswered_is_cancelled_once_by_beat_and_the_worker(
    client, celery_processes, mail_dir, tmp_path
):
    """ORD-PRICE-ERROR: a corrected price nobody answered in time. Beat (DatabaseScheduler) fires the
    sweep every second; the worker cancels the order once, e-mails the customer once, and later runs
    of the sweep change nothing."""
    cat = make_catalogue()
    order = web_checkout(client, cat=cat, product=binocular(), email_address="boris@example.com")
    line = order.lines.get()
    order_price_error_mark(order_id=order.pk, corrections={line.pk: line.unit_price.amount + 1000}, actor=None)
    hold = OrderHold.objects.get(order=order, kind=OrderHold.Kind.PRICE_CONFIRMATION, released_at__isnull=True)
    assert hold.due_at is not None
    # Test data: the answer period (Policy.price_error_answer_days) is over.
    OrderHold.objects.filter(pk=hold.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    every_second(name="integration: price error timeouts", task=PRICE_TASK)

    worker = celery_processes.worker()
    beat = celery_processes.beat()

    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED,
        timeout=30,
        message="beat and the worker to cancel the order",
    )
    # Beat fires again and again and the worker runs those sweeps: each finds nothing to do. (Three,
    # so that at least two are our entry's even if the production crontab entry for the same task
    # happens to fire during the test.)
    wait_until(
        lambda: task_results(worker.log(), PRICE_TASK).count("0") >= 3,
        timeout=30,
        message="three later sweeps that cancel nothing",
    )
    results = task_results(worker.log(), PRICE_TASK)
    assert results.count("1") == 1 and results[0] == "1", results
    assert beat.log().count("Sending due task integration: price error timeouts") >= 3

    wait_until(
        lambda: _email_status(f"order-cancelled:{order.pk}") == Email.Status.SENT,
        timeout=30,
        message="the cancellation e-mail to be sent",
    )
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "No answer to the corrected price in time."
    assert not OrderHold.objects.filter(order=order, released_at__isnull=True).exists()  # the hold ended
    assert order.events.filter(type=OrderEvent.Type.PRICE_ERROR_TIMED_OUT).count() == 1
    assert order.events.filter(type=OrderEvent.Type.CANCELLED).count() == 1
    product = line.product
    product.refresh_from_db()
    assert product.stock == 20  # ORD-REFUSE: the stock taken at confirmation went back

    cancelled = messages_with_subject(mail_dir, f"Your order {order.number} has been cancelled")
    assert len(cancelled) == 1
    assert str(cancelled[0]["To"]) == "boris@example.com"
    requests = messages_with_subject(mail_dir, f"Please confirm the corrected price for order {order.number}")
    assert len(requests) == 1
    assert Email.objects.filter(key=f"order-cancelled:{order.pk}").count() == 1


def test_pay_paypal_forgotten_approved_order_is_paid_by_the_beat_reconciliation(
    client, paypal_standin, celery_processes, mail_dir, tmp_path
):
    """PAY-PAYPAL: the customer approved at PayPal and never came back (no return, no webhook). Once
    ``Policy.paypal_reconcile_hours`` have passed, the beat-run reconciliation in the worker looks the
    order up at PayPal (the stand-in), captures it once and pays the order; the worker then sends the
    acknowledgement (ORD-ACK) with the invoice."""
    order = make_order(email="dora@example.com")
    payment = start_paypal(client, order)
    paypal_standin.approve(payment.paypal_order_id)  # the browser never follows the redirect back
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    # Test data: the 24 hours have passed.
    Payment.objects.filter(pk=payment.pk).update(reconcile_after=timezone.now() - dt.timedelta(minutes=1))
    every_second(name="integration: paypal reconciliation", task=RECONCILE_TASK)

    worker = celery_processes.worker(
        PAYPAL_API_BASE=paypal_standin.url,
        PAYPAL_WEBHOOK_ID=settings.PAYPAL_WEBHOOK_ID,
        PAYPAL_TIMEOUT=settings.PAYPAL_TIMEOUT,
    )
    celery_processes.beat()

    wait_until(
        lambda: Order.objects.get(pk=order.pk).payment_status == "paid",
        timeout=30,
        message="the reconciliation to pay the order",
    )
    wait_until(
        lambda: task_results(worker.log(), RECONCILE_TASK).count("0") >= 2,
        timeout=30,
        message="two later reconciliations that find nothing to do",
    )
    results = task_results(worker.log(), RECONCILE_TASK)
    assert results.count("1") == 1 and results[0] == "1", results

    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert payment.captured_amount == order.total
    assert payment.reconcile_after is None
    captures = [r for r in paypal_standin.requests() if r["method"] == "POST" and r["path"].endswith("/capture")]
    assert len(captures) == 1
    order.refresh_from_db()
    assert order.paid_at is not None
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1

    wait_until(
        lambda: _email_status(f"order-ack:{order.pk}") == Email.Status.SENT,
        timeout=45,
        message="the acknowledgement after payment",
    )
    _assert_acknowledgement(mail_dir, tmp_path, order)
