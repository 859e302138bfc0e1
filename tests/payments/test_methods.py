"""Payment methods other than plain PayPal: bank transfer, card online (fraud check), cash/card to the courier."""

import datetime as dt

import pytest
from django.core import mail

from orders import holds
from orders import services as order_services
from orders.errors import OrderActionError, OrderErrorCode
from orders.models import HoldKind, Order, OrderEvent
from payments import services
from payments.models import Payment, Refund
from tests.factories import UserFactory

from .payment_support import approve_and_return, make_order, rub, start_paypal

pytestmark = pytest.mark.django_db


# --- PAY-PREPAID-FIRST: bank transfer --------------------------------------------------------
def test_pay_prepaid_first_bank_transfer_unpaid_and_no_stock_until_funds_recorded(django_capture_on_commit_callbacks):
    """PAY-PREPAID-FIRST: the order waits, stock untouched, until staff record the credited funds."""
    order = make_order(payment_method="bank_transfer", stock=5)
    product = order.lines.get().product
    assert order.status == Order.Status.AWAITING_PAYMENT and not order.stock_taken
    product.refresh_from_db()
    assert product.stock == 5

    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_record_bank_transfer(
            order_id=order.pk, amount=rub("5340.00"), credited_on=dt.date.today(), reference="SBER-0091", actor=staff
        )
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid") and order.stock_taken
    assert product.stock == 4
    assert order.paid_at == payment.confirmed_at and order.ship_by is not None
    assert payment.bank_reference == "SBER-0091" and payment.recorded_by == staff
    assert mail.outbox  # the acknowledgement / receipt states the payment
    # Recording it again changes nothing.
    again = services.payment_record_bank_transfer(
        order_id=order.pk, amount=rub("5340.00"), credited_on=dt.date.today(), reference="SBER-0091", actor=staff
    )
    assert again.pk == payment.pk
    product.refresh_from_db()
    assert product.stock == 4


def test_pay_prepaid_first_bank_transfer_amount_must_match_total():
    """PAY-PREPAID-FIRST: a credited amount other than the total is refused with a message; nothing changes."""
    order = make_order(payment_method="bank_transfer")
    with pytest.raises(services.PaymentError, match="does not match the order total"):
        services.payment_record_bank_transfer(
            order_id=order.pk, amount=rub("5000.00"), credited_on=dt.date.today(), reference="X-1", actor=None
        )
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT and not order.payments.exists()


def test_pay_prepaid_first_paypal_stock_taken_only_when_paid(client, paypal_standin):
    """PAY-PREPAID-FIRST: starting a PayPal payment reserves nothing; the capture does."""
    order = make_order(stock=3)
    product = order.lines.get().product
    payment = start_paypal(client, order)
    product.refresh_from_db()
    assert product.stock == 3
    approve_and_return(client, paypal_standin, payment)
    product.refresh_from_db()
    assert product.stock == 2


# --- PAY-FRAUD-CHECK: card online ------------------------------------------------------------
def _card_paid(client, standin):
    order = make_order(payment_method="card_online")
    payment = start_paypal(client, order)
    approve_and_return(client, standin, payment)
    order.refresh_from_db()
    return order, payment


def test_pay_fraud_check_card_payment_waits_for_staff_then_processing(client, paypal_standin):
    """PAY-FRAUD-CHECK: a card-paid order is not processed until staff approve it."""
    order, _ = _card_paid(client, paypal_standin)
    assert order.status == Order.Status.PROCESSING and order.payment_status == "paid"
    assert holds.open_kinds(order) == {HoldKind.FRAUD_REVIEW}
    services.fraud_review_approve(order_id=order.pk, actor=UserFactory(is_staff=True))
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING and holds.open_kinds(order) == set()
    assert order.events.filter(type=OrderEvent.Type.FRAUD_REVIEW_APPROVED).exists()


def test_pay_fraud_check_rejected_card_payment_is_cancelled_and_refunded_to_the_card(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-FRAUD-CHECK: staff reject → order cancelled, the money goes back to the card through PayPal, e-mails."""
    order, payment = _card_paid(client, paypal_standin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.fraud_review_reject(order_id=order.pk, actor=UserFactory(is_staff=True), note="Card holder mismatch")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    [refund] = Refund.objects.filter(order=order)
    assert refund.way == Refund.Way.PAYPAL and refund.status == Refund.Status.SENT
    assert refund.amount == order.total
    assert payment.status == Payment.Status.REFUNDED
    assert order.payment_status == "refunded"
    refund_posts = [
        r for r in paypal_standin.requests() if r["path"].endswith(f"/captures/{payment.capture_id}/refund")
    ]
    assert len(refund_posts) == 1
    subjects = [m.subject for m in mail.outbox]
    assert any("cancelled" in s for s in subjects)
    assert any("Refund of" in s for s in subjects)
    assert order.events.filter(type=OrderEvent.Type.FRAUD_REVIEW_REJECTED).exists()


def test_pay_fraud_check_only_orders_under_review_can_be_rejected():
    order = make_order()
    order_services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=order.created_at, method="paypal")
    with pytest.raises(OrderActionError) as info:
        services.fraud_review_reject(order_id=order.pk, actor=None)
    assert info.value.code == OrderErrorCode.NOT_IN_FRAUD_REVIEW
    order.refresh_from_db()
    assert order.status == "processing" and order.cancelled_at is None


# --- PAY-CARD-AT-DOOR-ID ---------------------------------------------------------------------
def _door(order, **kwargs):
    defaults = {"method": "card_courier", "amount": order.total, "id_document_checked": False, "card_unnamed": False}
    return services.payment_record_at_door(order_id=order.pk, actor=None, **{**defaults, **kwargs})


def test_pay_card_at_door_id_named_card_needs_the_id_check():
    """PAY-CARD-AT-DOOR-ID: a named card without the identity document checked is refused; nothing recorded."""
    order = make_order(status="shipped", payment_method="card_courier")
    with pytest.raises(services.PaymentError, match="identity document"):
        _door(order)
    assert not order.payments.exists()
    payment = _door(order, id_document_checked=True)
    assert payment.status == Payment.Status.COMPLETED and payment.id_document_checked


def test_pay_card_at_door_id_unnamed_card_needs_no_id(django_capture_on_commit_callbacks):
    """PAY-CARD-AT-DOOR-ID: an unnamed card is accepted without an identity document."""
    order = make_order(status="shipped", payment_method="card_courier")
    with django_capture_on_commit_callbacks(execute=True):
        payment = _door(order, card_unnamed=True)
    assert payment.card_unnamed and not payment.id_document_checked
    assert payment.captured_amount == order.total
    assert order.events.filter(type=OrderEvent.Type.PAYMENT_RECEIVED_AT_DOOR).count() == 1
    assert [m for m in mail.outbox if m.subject.startswith("Payment received")]
    assert _door(order, card_unnamed=True).pk == payment.pk  # recorded once


def test_pay_card_at_door_id_cash_needs_no_id_but_the_full_amount():
    order = make_order(status="shipped", payment_method="cash_courier")
    with pytest.raises(services.PaymentError, match="paid in full"):
        _door(order, method="cash_courier", amount=rub("5000.00"))
    payment = _door(order, method="cash_courier")
    assert payment.status == Payment.Status.COMPLETED


def test_pay_card_at_door_id_prepaid_orders_take_nothing_at_the_door():
    order = make_order(status="paid", payment_method="paypal")
    with pytest.raises(services.PaymentError, match="prepaid"):
        _door(order, id_document_checked=True)
