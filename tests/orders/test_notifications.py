"""ORD-ACK: one acknowledgement per registered order, with the invoice attached; other order e-mails."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from orders import services
from orders.access import order_link
from orders.notifications import order_acknowledgement_queue
from orders.selectors import order_estimate
from shop.models import Email
from tests.orders.lifecycle_support import isolate_hooks, make_order
from tests.orders.test_invoice import pdf_text

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def _hooks(monkeypatch):
    return isolate_hooks(monkeypatch)


@time_machine.travel(dt.datetime(2026, 11, 18, 10, 0, tzinfo=MSK), tick=False)
def test_ord_ack_confirmed_order_gets_exactly_one_acknowledgement_with_pdf(
    django_capture_on_commit_callbacks, tmp_path
):
    order = make_order(status="processing", payment_method="cash_courier", full_name="Иван Петров")
    with django_capture_on_commit_callbacks(execute=True):
        order_acknowledgement_queue(order=order)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.email]
    assert message.subject == f"Your order {order.number} at Rusoptics"
    body = message.body
    assert "Бинокль 1 10x42" in body
    assert "Total: RUB 5,340.00" in body
    assert "12 Lenina street, flat 5" in body
    # Processing 1–3 business days from confirmation (Wed 18 Nov); air mail's 7–14 business days
    # counted after the longest processing time: the same dates the review and order pages show.
    assert "Estimated processing: 19 November 2026 – 23 November 2026" in body
    assert "Estimated delivery: 2 December 2026 – 11 December 2026" in body
    assert order_link(order) in body
    assert "Payment received" not in body  # paid on delivery: nothing received yet
    html = message.alternatives[0][0]
    assert order.number in html and "Иван Петров" in html
    filename, content, mimetype = message.attachments[0]
    assert (filename, mimetype) == (f"invoice-{order.number}.pdf", "application/pdf")
    assert order.number in pdf_text(content, tmp_path)
    assert order.events.filter(type="email_queued", parameters__kind="acknowledgement").count() == 1


def test_ord_ack_queued_twice_is_sent_once(django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier")
    with django_capture_on_commit_callbacks(execute=True):
        first = order_acknowledgement_queue(order=order)
        second = order_acknowledgement_queue(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        order_acknowledgement_queue(order=order)
    assert first.pk == second.pk
    assert Email.objects.filter(key=f"order-ack:{order.pk}").count() == 1
    assert len(mail.outbox) == 1


def test_ord_ack_nothing_sent_for_a_transaction_that_rolls_back(django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier")

    class Rollback(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Rollback), transaction.atomic():
        order_acknowledgement_queue(order=order)
        raise Rollback
    assert mail.outbox == []
    assert not Email.objects.exists()


def test_ord_ack_for_a_paid_order_states_the_payment(django_capture_on_commit_callbacks):
    order = make_order(payment_method="paypal")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_mark_paid(
            order_id=order.pk,
            amount=order.total,
            paid_at=dt.datetime(2026, 11, 20, 14, 0, tzinfo=MSK),
            method="paypal",
        )
    assert len(mail.outbox) == 1
    assert "Payment received: RUB 5,340.00 on 20 November 2026" in mail.outbox[0].body
    assert "Payment received: RUB 5,340.00 on 20 November 2026" in mail.outbox[0].alternatives[0][0]


def test_ship_processing_time_windows_count_business_days_from_payment():
    """SHIP-PROCESSING-TIME: paid Friday 20 Nov 16:00 (after hours) → processing Tue 24 – Thu 26 Nov."""
    order = make_order(payment_method="paypal")
    order.paid_at = dt.datetime(2026, 11, 20, 16, 0, tzinfo=MSK)
    estimate, firm = order_estimate(order)
    assert estimate.processing_from == dt.date(2026, 11, 24)
    assert estimate.processing_to == dt.date(2026, 11, 26)
    assert firm


def test_processing_email_when_a_card_payment_is_approved(django_capture_on_commit_callbacks):
    """SHIP-PROCESSING-TIME: once staff approve the card payment (PAY-FRAUD-CHECK) work starts; the customer hears."""
    order = make_order(payment_method="card_online")
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=order.created_at, method="card_online")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_fraud_approve(order_id=order.pk, actor=None)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"We are preparing your order {order.number}"
    assert "Processing takes 1–3 business days" in mail.outbox[0].body


def test_plain_text_emails_are_not_html_escaped(django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier", full_name="D'Artagnan & Co")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=order.pk, reason="Out of <stock> & discontinued")
    body = mail.outbox[0].body
    assert "Hello D'Artagnan & Co," in body
    assert "Reason: Out of <stock> & discontinued" in body
    assert "Out of &lt;stock&gt; &amp; discontinued" in mail.outbox[0].alternatives[0][0]


def test_payment_date_is_the_shops_local_date_whatever_the_server_time_zone(
    settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "UTC"
    order = make_order(payment_method="paypal")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_mark_paid(
            order_id=order.pk,
            amount=order.total,
            paid_at=dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC),  # 01:30 on the 21st in Moscow
            method="paypal",
        )
    assert "Payment received: RUB 5,340.00 on 21 November 2026" in mail.outbox[0].body
