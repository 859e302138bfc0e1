"""Concurrency on real PostgreSQL: duplicate PayPal webhooks at once, refunds racing each other.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> .venv/bin/pytest tests/integration``.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from payments import services
from payments.models import Payment, Refund, WebhookEvent
from tests.concurrency_support import race as _race
from tests.integration.conftest import wait_until
from tests.payments.payment_support import capture_requests, make_order, path_of, rub, start_paypal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_pay_paypal_20_concurrent_duplicate_webhooks_pay_the_order_once(client, paypal_standin, live_server):
    """PAY-PAYPAL: PayPal delivers the same COMPLETED event 20 times at once: the order is paid once."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "timeout")  # PayPal captures; the shop never sees the answer
    client.get(path_of(paypal_standin.approve(payment.paypal_order_id)["redirect_url"]))
    capture_requests(paypal_standin, at_least=1)
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT

    paypal_standin.set_webhook_url(live_server.url + reverse("payments:paypal_webhook"))
    result = paypal_standin.send_webhook(
        payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED", copies=20, concurrent=True
    )
    statuses = [attempt["status"] for d in result["deliveries"] for attempt in d["attempts"]]
    assert len(result["deliveries"]) == 20
    assert set(statuses) == {200}

    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
    assert order.events.filter(type=OrderEvent.Type.STOCK_TAKEN).count() == 1
    event = WebhookEvent.objects.get()
    assert event.deliveries == 20 and event.processed_at is not None
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.COMPLETED


def test_pay_refund_same_way_concurrent_refunds_never_exceed_what_was_paid():
    """PAY-REFUND-SAME-WAY: ten simultaneous refunds of 1000 on a 5340 payment: five succeed, never more."""
    order = make_order(status="processing", payment_method="cash_courier")
    services.payment_record_at_door(
        order_id=order.pk,
        method="cash_courier",
        amount=order.total,
        id_document_checked=False,
        card_unnamed=False,
        actor=None,
    )
    results = _race(
        10, lambda i: services.refund_issue(order_id=order.pk, amount=rub("1000.00"), reason=f"attempt {i}")
    )
    made = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, services.RefundError)]
    assert len(made) == 5 and len(refused) == 5, results
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == rub("5000.00")
    total = sum((r.amount.amount for r in Refund.objects.filter(order=order)), Decimal("0"))
    assert total == Decimal("5000.00") <= payment.captured_amount.amount


def test_pay_refund_same_way_concurrent_paypal_refunds_over_http(client, paypal_standin, celery_processes):
    """PAY-REFUND-SAME-WAY: racing PayPal refunds, sent to PayPal by a real Celery worker, never exceed the capture."""
    from django.conf import settings

    celery_processes.worker(
        PAYPAL_API_BASE=paypal_standin.url,
        PAYPAL_WEBHOOK_ID=settings.PAYPAL_WEBHOOK_ID,
        PAYPAL_TIMEOUT=str(settings.PAYPAL_TIMEOUT),
    )
    order = make_order()
    payment = start_paypal(client, order)
    client.get(path_of(paypal_standin.approve(payment.paypal_order_id)["redirect_url"]))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    results = _race(8, lambda i: services.refund_issue(order_id=order.pk, amount=rub("1500.00"), reason=f"attempt {i}"))
    assert sum(isinstance(r, Refund) for r in results) == 3
    payment.refresh_from_db()
    assert payment.refunded_amount == rub("4500.00")
    wait_until(
        lambda: Refund.objects.filter(order=order, status=Refund.Status.SENT).count() == 3, message="refunds sent"
    )
    refunds = paypal_standin.state.captures[payment.capture_id]["refund_ids"]
    assert len(refunds) == 3


def test_pay_paypal_return_and_webhook_at_the_same_moment_pay_once(client, paypal_standin, live_server):
    """PAY-PAYPAL: the capture's automatic webhook races the return page's own recording: one change."""
    paypal_standin.set_webhook_url(live_server.url + reverse("payments:paypal_webhook"))
    order = make_order()
    payment = start_paypal(client, order)
    response = client.get(path_of(paypal_standin.approve(payment.paypal_order_id)["redirect_url"]), follow=True)
    assert "Payment received" in response.content.decode()
    paypal_standin.wait_for_webhooks(1)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
