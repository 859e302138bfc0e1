"""PAY-PAYPAL against the PayPal stand-in over real HTTP: start, approve, return, cancel, faults, amounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from payments import gateways, services
from payments.models import Payment
from tests.factories import OrderFactory, OrderLineFactory, UserFactory

from .payment_support import approve_and_return, capture_requests, make_order, path_of, rub, start_paypal

pytestmark = pytest.mark.django_db


# --- amounts ---------------------------------------------------------------------------------
def _breakdown_sum(amount: dict) -> Decimal:
    parts = amount["breakdown"]
    value = lambda key: Decimal(parts[key]["value"]) if key in parts else Decimal("0")  # noqa: E731
    return value("item_total") + value("shipping") + value("handling") - value("discount")


def test_pay_paypal_amounts_are_quantised_and_breakdown_equals_total():
    """PAY-PAYPAL: item_total + shipping − discount equals the total exactly, in minor units."""
    order = make_order(lines=((Decimal("1999.99"), 3), (Decimal("0.01"), 7)), delivery="350.5", discount="100.07")
    amount = gateways.paypal_amount(order)
    assert amount["value"] == "6250.47"  # 5999.97 + 0.07 + 350.50 − 100.07
    assert amount["breakdown"]["item_total"]["value"] == "6000.04"
    assert amount["breakdown"]["shipping"]["value"] == "350.50"
    assert amount["breakdown"]["discount"]["value"] == "100.07"
    assert _breakdown_sum(amount) == Decimal(amount["value"])
    items = gateways.paypal_items(order)
    assert sum(Decimal(i["unit_amount"]["value"]) * int(i["quantity"]) for i in items) == Decimal("6000.04")


def test_pay_paypal_breakdown_still_adds_up_when_stored_total_differs_from_lines():
    """A total the lines do not explain still gives a breakdown PayPal accepts (difference as discount/handling)."""
    order = OrderFactory(status="awaiting_payment", payment_method="paypal", total=rub("5000.00"))
    OrderLineFactory(order=order, unit_price=rub("4990.00"), quantity=1)
    amount = gateways.paypal_amount(order)
    assert amount["breakdown"]["discount"]["value"] == "340.00"
    assert _breakdown_sum(amount) == Decimal("5000.00")
    order.total = rub("5400.00")
    amount = gateways.paypal_amount(order)
    assert amount["breakdown"]["handling"]["value"] == "60.00"
    assert _breakdown_sum(amount) == Decimal("5400.00")


def test_quantize_rounds_half_up_to_the_currency_minor_unit():
    assert gateways.quantize(Decimal("10.005"), "RUB") == Decimal("10.01")
    assert gateways.quantize(Decimal("10.5"), "JPY") == Decimal("11")


# --- the browser round trip ------------------------------------------------------------------
def test_pay_paypal_start_creates_paypal_order_and_redirects_to_approval(client, paypal_standin):
    """PAY-PAYPAL: the PayPal order carries the order's exact total and return/cancel URLs; POSTs carry a request id."""
    order = make_order()
    payment = start_paypal(client, order)
    assert payment.paypal_order_id and payment.status == Payment.Status.CREATED
    sent = paypal_standin.order(payment.paypal_order_id)
    assert sent["purchase_units"][0]["amount"]["value"] == "5340.00"
    create = [r for r in paypal_standin.requests("/v2/checkout/orders") if r["method"] == "POST"][0]
    assert create["headers"]["PayPal-Request-Id"] == f"{order.number}-create-{payment.pk}"
    context = create["body"]["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "http://testserver" + reverse("payments:paypal_return")
    assert context["cancel_url"] == "http://testserver" + reverse("payments:paypal_cancel")
    # Pressing "Pay" again reuses the same PayPal order.
    client.post(reverse("payments:start", kwargs={"number": order.number}))
    assert order.payments.count() == 1


def test_pay_paypal_start_is_owner_only(client, paypal_standin):
    order = make_order()
    client.force_login(UserFactory())
    response = client.post(reverse("payments:start", kwargs={"number": order.number}))
    assert response.status_code == 404
    assert not order.payments.exists()


def test_pay_paypal_start_refuses_an_order_not_awaiting_payment(client, paypal_standin):
    order = make_order(status="paid")
    client.force_login(order.user)
    response = client.post(reverse("payments:start", kwargs={"number": order.number}), follow=True)
    assert "not waiting for a payment" in response.content.decode()
    assert not order.payments.exists()


def test_pay_paypal_return_captures_and_pays_the_order(client, paypal_standin, django_capture_on_commit_callbacks):
    """PAY-PAYPAL: approve at PayPal, come back: captured, order paid, shipping clock started, message shown."""
    order = make_order()
    payment = start_paypal(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        response = approve_and_return(client, paypal_standin, payment)
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert "Payment received" in response.content.decode()
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert payment.status == Payment.Status.COMPLETED
    assert payment.captured_amount == rub("5340.00")
    assert order.paid_at == payment.confirmed_at
    assert order.ship_by is not None and order.stock_taken
    [capture] = capture_requests(paypal_standin)
    assert capture["headers"]["PayPal-Request-Id"] == f"{order.number}-capture-{payment.pk}"
    assert any(order.number in m.subject for m in mail.outbox)


def test_pay_paypal_returning_twice_changes_the_order_once(client, paypal_standin):
    """PAY-PAYPAL: a reload of the return page does not capture or pay again."""
    order = make_order()
    payment = start_paypal(client, order)
    redirect = paypal_standin.approve(payment.paypal_order_id)["redirect_url"]
    client.get(path_of(redirect))
    client.get(path_of(redirect))
    assert len(capture_requests(paypal_standin)) == 1
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1


def test_pay_paypal_cancel_returns_to_order_with_message_and_pay_button(client, paypal_standin):
    """PAY-PAYPAL: cancelled at PayPal → the order page says so and offers to pay again (same PayPal order)."""
    order = make_order()
    payment = start_paypal(client, order)
    redirect = paypal_standin.cancel(payment.paypal_order_id)["redirect_url"]
    response = client.get(path_of(redirect), follow=True)
    page = response.content.decode()
    assert "You cancelled the payment at PayPal" in page
    assert "Pay with PayPal" in page
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    again = client.post(reverse("payments:start", kwargs={"number": order.number}))
    assert again["Location"] == payment.approve_url


def test_pay_paypal_capture_timeout_then_retry_captures_once(client, paypal_standin):
    """PAY-PAYPAL: PayPal captured but the answer timed out; the retry (same request id) records it, one capture."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "timeout")
    redirect = paypal_standin.approve(payment.paypal_order_id)["redirect_url"]
    response = client.get(path_of(redirect), follow=True)
    assert "has not confirmed your payment yet" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    response = client.get(path_of(redirect), follow=True)
    assert "Payment received" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    requests = capture_requests(paypal_standin, at_least=2)
    assert len(requests) == 2
    assert {r["headers"]["PayPal-Request-Id"] for r in requests} == {f"{order.number}-capture-{payment.pk}"}
    [paypal_order] = paypal_standin.orders.values()
    assert len(paypal_order["purchase_units"][0]["payments"]["captures"]) == 1


def test_pay_paypal_amount_mismatch_marks_review_and_does_not_pay(client, paypal_standin):
    """PAY-PAYPAL: PayPal reports a captured amount other than the total → payment held for review."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "amount_mismatch")
    response = approve_and_return(client, paypal_standin, payment)
    assert "we will confirm it shortly" in response.content.decode()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.REVIEW
    assert payment.captured_amount == rub("5339.00")
    assert payment.review_reason.startswith("PayPal captured")
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.events.filter(type=OrderEvent.Type.PAYMENT_REVIEW).exists()


def test_pay_paypal_denied_capture_fails_and_emails_the_customer(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-PAYPAL: a declined capture leaves the order unpaid; the customer is told and may pay again."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "denied")
    with django_capture_on_commit_callbacks(execute=True):
        response = approve_and_return(client, paypal_standin, payment)
    assert "did not accept the payment" in response.content.decode()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.DENIED
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert [m for m in mail.outbox if "was not completed" in m.subject]
    # A new attempt is a new PayPal order.
    client.post(reverse("payments:start", kwargs={"number": order.number}))
    assert order.payments.count() == 2


def test_pay_paypal_pending_capture_waits_for_paypal(client, paypal_standin):
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "pending")
    approve_and_return(client, paypal_standin, payment)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_pay_paypal_no_second_paypal_order_while_one_is_being_confirmed(client, paypal_standin):
    """PAY-PAYPAL: approved but not confirmed yet (capture answer lost) → pressing "Pay" again starts nothing."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "pending")
    approve_and_return(client, paypal_standin, payment)
    response = client.post(reverse("payments:start", kwargs={"number": order.number}), follow=True)
    assert "no need to pay again" in response.content.decode()
    assert order.payments.count() == 1


def test_pay_paypal_paypal_down_at_start_shows_a_message(client, paypal_standin):
    order = make_order()
    client.force_login(order.user)
    paypal_standin.fault("create", "500")
    response = client.post(reverse("payments:start", kwargs={"number": order.number}), follow=True)
    assert "PayPal is not available right now" in response.content.decode()
    assert order.payments.get().status == Payment.Status.FAILED


def test_pay_paypal_card_online_goes_through_paypal_and_stops_for_fraud_check(client, paypal_standin):
    """PAY-FRAUD-CHECK: card online is processed by PayPal (guest card form); paid, it is held for staff review."""
    order = make_order(payment_method="card_online")
    payment = start_paypal(client, order)
    create = [r for r in paypal_standin.requests("/v2/checkout/orders") if r["method"] == "POST"][0]
    assert create["body"]["payment_source"]["paypal"]["experience_context"]["landing_page"] == "GUEST_CHECKOUT"
    approve_and_return(client, paypal_standin, payment)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert set(order.holds.filter(released_at__isnull=True).values_list("kind", flat=True)) == {"fraud_review"}


# --- PAY-PAYPAL: 24-hour reconciliation ------------------------------------------------------
def test_pay_paypal_reconciliation_after_24h_captures_a_forgotten_approved_order(client, paypal_standin):
    """PAY-PAYPAL: approved at PayPal but the customer never came back; 24 h later the sweep captures and pays."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.approve(payment.paypal_order_id)  # the browser never returns
    assert services.payments_reconcile_stale() == 0  # not due yet
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        from payments.tasks import payments_reconcile_stale

        assert payments_reconcile_stale.delay().get() == 1
        order.refresh_from_db()
        assert (order.status, order.payment_status) == ("processing", "paid")
        assert order.paid_at >= payment.created_at + timedelta(hours=24)
    assert len(capture_requests(paypal_standin)) == 1
    # Running it again changes nothing.
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert services.payments_reconcile_stale() == 0
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1


def test_pay_paypal_reconciliation_records_a_capture_whose_answer_was_lost(client, paypal_standin):
    """PAY-PAYPAL: captured at PayPal, answer lost, no webhook: the lookup finds the capture and pays the order."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "timeout")
    approve_and_return(client, paypal_standin, payment)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        services.payments_reconcile_stale()
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert len(capture_requests(paypal_standin, at_least=1)) == 1


def test_pay_paypal_reconciliation_fails_an_abandoned_payment_and_tells_the_customer(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-PAYPAL: never approved within 24 h → the attempt fails (event + e-mail); the order still waits."""
    order = make_order()
    start_paypal(client, order)
    with time_machine.travel(timezone.now() + timedelta(hours=25)), django_capture_on_commit_callbacks(execute=True):
        services.payments_reconcile_stale()
    payment = order.payments.get()
    assert payment.status == Payment.Status.FAILED
    assert order.events.filter(type=OrderEvent.Type.PAYMENT_FAILED).exists()
    assert [m for m in mail.outbox if "was not completed" in m.subject]
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
