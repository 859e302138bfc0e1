"""Payments services without a browser: idempotency, order of reports, edge cases (PAY-PAYPAL, PAY-REFUND-SAME-WAY)."""

import pytest
from django.db import IntegrityError
from djmoney.money import Money

from orders.models import Order, OrderEvent
from payments import services
from payments.models import Payment, Refund, WebhookEvent

from .payment_support import cod_order_paid_at_door, make_order, rub

pytestmark = pytest.mark.django_db


def _paypal_payment(order, **kwargs):
    defaults = {
        "method": order.payment_method,
        "gateway": "paypal",
        "status": "created",
        "amount": order.total,
        "captured_amount": Money(0, "RUB"),
        "refunded_amount": Money(0, "RUB"),
        "paypal_order_id": f"PP{order.pk:08d}",
    }
    return Payment.objects.create(order=order, **{**defaults, **kwargs})


def _capture_event(payment, event_id="WH-1", status="COMPLETED", value=None):
    return {
        "id": event_id,
        "event_type": {"COMPLETED": "PAYMENT.CAPTURE.COMPLETED", "DECLINED": "PAYMENT.CAPTURE.DENIED"}[status],
        "resource": {
            "id": "CAP1",
            "status": status,
            "amount": {"currency_code": "RUB", "value": value or str(payment.amount.amount)},
            "supplementary_data": {"related_ids": {"order_id": payment.paypal_order_id}},
        },
    }


def test_pay_paypal_capture_record_is_idempotent():
    """PAY-PAYPAL: the same capture reported three times pays the order once."""
    order = make_order()
    payment = _paypal_payment(order)
    for _ in range(3):
        services.payment_capture_record(
            payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="COMPLETED"
        )
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1


def test_pay_paypal_late_denied_report_does_not_undo_a_completed_payment():
    order = make_order()
    payment = _paypal_payment(order)
    services.payment_capture_record(payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="COMPLETED")
    services.payment_capture_record(payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="DECLINED")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def test_pay_paypal_money_captured_for_a_cancelled_order_is_held_for_review():
    """PAY-PAYPAL: the customer paid after staff cancelled: the order stays cancelled, staff see the payment."""
    order = make_order(status="cancelled")
    payment = _paypal_payment(order)
    services.payment_capture_record(payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="COMPLETED")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.REVIEW and "cancelled" in payment.review_reason
    assert order.status == Order.Status.CANCELLED
    assert order.events.filter(type=OrderEvent.Type.PAYMENT_REVIEW).exists()
    # Staff can send that money back.
    refund = services.refund_issue(order_id=order.pk, amount=order.total, reason="Paid after cancellation")
    assert refund.amount == order.total


def test_pay_paypal_webhook_event_processed_once_and_counted():
    order = make_order()
    payment = _paypal_payment(order)
    event = _capture_event(payment)
    row, acted = services.webhook_event_process(event=event)
    assert acted and row.verified and row.processed_at
    row, acted = services.webhook_event_process(event=event)
    assert not acted
    assert WebhookEvent.objects.get().deliveries == 2
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1


def test_pay_paypal_webhook_amount_mismatch_marks_review():
    """PAY-PAYPAL: a webhook reporting a different amount holds the payment for review."""
    order = make_order()
    payment = _paypal_payment(order)
    services.webhook_event_process(event=_capture_event(payment, value="5000.00"))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.REVIEW
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_webhook_about_an_unknown_payment_is_recorded_and_ignored():
    row, acted = services.webhook_event_process(
        event={"id": "WH-X", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "NOPE"}}
    )
    assert acted and row.result == "No payment for this capture."
    other, _ = services.webhook_event_process(
        event={"id": "WH-Y", "event_type": "BILLING.PLAN.CREATED", "resource": {}}
    )
    assert other.result.startswith("Ignored")


def test_refund_issue_with_key_is_idempotent():
    order = cod_order_paid_at_door()
    first = services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="x", key="k-1")
    second = services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="x", key="k-1")
    assert first.pk == second.pk
    assert Payment.objects.get().refunded_amount == rub("100.00")
    third = services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="again")
    assert third.pk != first.pk and third.idempotency_key == f"{order.number}-refund-2"


def test_refund_amount_must_be_positive_and_the_database_agrees():
    order = make_order(status="processing", payment_method="cash_courier")
    payment = services.payment_record_at_door(
        order_id=order.pk,
        method="cash_courier",
        amount=order.total,
        id_document_checked=False,
        card_unnamed=False,
        actor=None,
    )
    with pytest.raises(services.RefundError, match="positive"):
        services.refund_issue(order_id=order.pk, amount=rub("0"), reason="x")
    with pytest.raises(IntegrityError):
        Refund.objects.create(
            order=order, payment=payment, amount=rub("0"), status="requested", way="paypal", idempotency_key="zero"
        )


def test_refund_recorded_at_paypal_dashboard_is_kept_in_totals():
    """PAY-REFUND-SAME-WAY: a refund staff made in PayPal's dashboard (known by webhook) counts against the capture."""
    order = make_order()
    payment = _paypal_payment(order)
    services.payment_capture_record(payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="COMPLETED")
    event = {
        "id": "WH-R",
        "event_type": "PAYMENT.CAPTURE.REFUNDED",
        "resource": {
            "id": "REF1",
            "status": "COMPLETED",
            "amount": {"currency_code": "RUB", "value": "340.00"},
            "links": [{"rel": "up", "href": "http://paypal/v2/payments/captures/CAP1"}],
        },
    }
    services.webhook_event_process(event=event)
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SENT and refund.gateway_refund_id == "REF1"
    payment.refresh_from_db()
    assert payment.refunded_amount == rub("340.00")
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    with pytest.raises(services.RefundError):
        services.refund_issue(order_id=order.pk, amount=rub("5000.01"), reason="over")


def test_a_fee_after_payment_makes_the_order_partly_paid_and_a_cancelled_part_overpaid():
    """SHIP-ADDRESS-CHANGE, SHIP-STOCKOUT: owed = total + adjustments; the payment status follows."""
    from django.db import transaction

    from orders import services as order_services
    from orders.models import OrderAdjustment
    from shop.locks import lock_order

    order = make_order()
    payment = _paypal_payment(order)
    services.payment_capture_record(payment_id=payment.pk, capture_id="CAP1", amount=order.total, status="COMPLETED")
    assert Order.objects.get(pk=order.pk).payment_status == "paid"
    with transaction.atomic():
        locked = lock_order(order.pk)
        order_services.order_adjust(
            order=locked, kind=OrderAdjustment.Kind.FEE, amount=rub("500"), reason="Re-delivery", key="fee-1"
        )
        order_services.order_adjust(  # the same key again: nothing new
            order=locked, kind=OrderAdjustment.Kind.FEE, amount=rub("500"), reason="Re-delivery", key="fee-1"
        )
    assert Order.objects.get(pk=order.pk).payment_status == "partially_paid"
    with transaction.atomic():
        order_services.order_adjust(
            order=lock_order(order.pk),
            kind=OrderAdjustment.Kind.CANCELLED_PART,
            amount=rub("-1000"),
            reason="Missing part cancelled",
            key="cancel-1",
        )
    assert Order.objects.get(pk=order.pk).payment_status == "overpaid"
    assert OrderAdjustment.objects.filter(order=order).count() == 2
