"""Staff pages: payments, refunds, PayPal events, the fraud review queue and bank transfers awaiting funds."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from orders import services as order_services
from orders.models import Order, OrderEvent
from payments import services
from payments.models import Payment, Refund, WebhookEvent

from .payment_support import completed_payment, make_order, rub

pytestmark = pytest.mark.django_db


def _many_payments(count):
    for i in range(count):
        order = make_order(status="processing", user=None)
        completed_payment(order, paypal_order_id=f"PPORDER{i:05d}", capture_id=f"CAP{i:05d}")


@pytest.mark.parametrize("count", [3, 30])
def test_payment_changelist_query_count_is_flat(admin_client, django_assert_max_num_queries, count):
    _many_payments(count)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:payments_payment_changelist"))
    assert response.status_code == 200
    assert response.content.decode().count("PPORDER") >= count


def test_payment_changelist_search_by_order_number_and_paypal_ids(admin_client):
    _many_payments(3)
    target = Payment.objects.get(paypal_order_id="PPORDER00001")
    url = reverse("admin:payments_payment_changelist")
    for query in [target.order.number, "PPORDER00001", "CAP00001"]:
        page = admin_client.get(url, {"q": query}).content.decode()
        assert target.order.number in page
        assert "PPORDER00002" not in page


@pytest.mark.parametrize("count", [3, 30])
def test_refund_changelist_query_count_is_flat_and_filters(admin_client, django_assert_max_num_queries, count):
    for i in range(count):
        order = make_order(status="processing", payment_method="cash_courier", user=None)
        payment = completed_payment(order, gateway="courier")
        services.refund_issue(order_id=order.pk, amount=rub("10.00"), reason=f"R{i}")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:payments_refund_changelist"), {"status": "awaiting_bank_details"})
    assert response.status_code == 200
    assert response.content.decode().count("Waiting for the customer") >= count
    empty = admin_client.get(reverse("admin:payments_refund_changelist"), {"way": "paypal"}).content.decode()
    assert payment.order.number not in empty


def test_pay_refund_same_way_staff_record_the_bank_transfer_reference(admin_client):
    """PAY-REFUND-SAME-WAY: staff record the transfer's reference → refund sent, customer e-mailed."""
    order = make_order(status="processing", payment_method="cash_courier", user=None)
    completed_payment(order, gateway="courier")
    refund = services.refund_issue(order_id=order.pk, amount=rub("340.00"), reason="Lens cap missing")
    url = reverse("admin:payments_refund_record", args=[refund.pk])
    early = admin_client.post(url, {"reference": "BANK-1"})
    assert "has not given a bank account" in early.content.decode()
    services.refund_bank_details_submit(
        order_id=order.pk, holder="Anna Petrova", account_number="40817810099910004312", bic="044525225"
    )
    assert "Record the transfer" in admin_client.get(reverse("admin:payments_refund_changelist")).content.decode()
    page = admin_client.get(url).content.decode()
    assert "40817810099910004312" in page
    blank = admin_client.post(url, {"reference": ""})
    assert "This field is required." in blank.content.decode()
    mail.outbox.clear()
    response = admin_client.post(url, {"reference": "BANK-2026-77"})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT and refund.reference == "BANK-2026-77"
    assert order.events.filter(type=OrderEvent.Type.REFUND_SENT).exists()


def test_staff_refund_page_refuses_more_than_captured(admin_client):
    """PAY-REFUND-SAME-WAY: the staff refund form says how much is left, next to the amount."""
    order = make_order(status="processing", payment_method="cash_courier", user=None)
    payment = completed_payment(order, gateway="courier")
    url = reverse("admin:payments_payment_refund", args=[payment.pk])
    response = admin_client.post(url, {"amount": "6000.00", "reason": "Too much"})
    assert "Only RUB 5,340.00 can still be refunded" in response.content.decode()
    assert not Refund.objects.exists()
    response = admin_client.post(url, {"amount": "100.00", "reason": "Scratch"})
    assert response.status_code == 302
    assert Refund.objects.get().amount == rub("100.00")


def test_webhook_events_are_read_only(admin_client):
    WebhookEvent.objects.create(event_id="WH-1", type="PAYMENT.CAPTURE.COMPLETED", payload={}, verified=True)
    assert admin_client.get(reverse("admin:payments_webhookevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:payments_webhookevent_add")).status_code == 403
    event = WebhookEvent.objects.get()
    page = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in page


def test_order_admin_shows_payment_and_refund_inlines(admin_client):
    order = make_order(status="processing", payment_method="cash_courier", user=None)
    completed_payment(order, gateway="courier", bank_reference="")
    services.refund_issue(order_id=order.pk, amount=rub("10.00"), reason="x")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Payments" in page and "Refunds" in page
    assert "Waiting for the customer" in page


# --- PAY-FRAUD-CHECK: the review queue -------------------------------------------------------
@pytest.mark.parametrize("count", [2, 20])
def test_pay_fraud_check_queue_lists_only_orders_under_review(admin_client, django_assert_max_num_queries, count):
    """PAY-FRAUD-CHECK: the queue shows card-paid orders waiting for staff, and nothing else."""
    waiting = []
    for _ in range(count):
        waiting.append(_card_paid_order())
    other = make_order(status="processing", user=None)
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:payments_fraudrevieworder_changelist")).content.decode()
    assert all(o.number in page for o in waiting)
    assert other.number not in page


def _card_paid_order():
    """A card payment confirmed through the real path: it opens the fraud-review hold."""
    order = make_order(payment_method="card_online", user=None)
    completed_payment(order, capture_id="CAPCARD")
    order_services.order_mark_paid(
        order_id=order.pk, amount=order.total, paid_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), method="card_online"
    )
    return order


def test_pay_fraud_check_staff_approve_from_the_queue(admin_client):
    order = _card_paid_order()
    response = admin_client.post(
        reverse("admin:payments_fraudrevieworder_changelist"),
        {"action": "approve", "_selected_action": [order.pk]},
        follow=True,
    )
    assert "Approved: 1 order(s)." in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert not order.holds.filter(released_at__isnull=True).exists()
    assert order.number not in admin_client.get(reverse("admin:payments_fraudrevieworder_changelist")).content.decode()


def test_pay_fraud_check_staff_reject_from_the_queue_cancels_and_refunds(
    admin_client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-FRAUD-CHECK: the queue's reject action cancels and starts the card refund (end to end: test_methods)."""
    order = _card_paid_order()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:payments_fraudrevieworder_changelist"), {"action": "reject", "_selected_action": [order.pk]}
        )
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    refund = Refund.objects.get(order=order)
    assert refund.way == Refund.Way.PAYPAL and refund.amount == order.total


# --- PAY-PREPAID-FIRST: recording a bank transfer --------------------------------------------
@pytest.mark.parametrize("count", [2, 20])
def test_pay_prepaid_first_bank_transfers_awaiting_funds_list(admin_client, django_assert_max_num_queries, count):
    orders = [make_order(payment_method="bank_transfer", user=None) for _ in range(count)]
    paid = make_order(payment_method="bank_transfer", status="processing", user=None)
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:payments_banktransferorder_changelist")).content.decode()
    assert all(o.number in page for o in orders) and paid.number not in page
    assert page.count("Record the credited funds") == count


def test_pay_prepaid_first_staff_record_credited_funds_in_the_admin(admin_client, django_capture_on_commit_callbacks):
    """PAY-PREPAID-FIRST: a wrong amount is refused next to the field; the right one pays the order."""
    order = make_order(payment_method="bank_transfer", user=None)
    url = reverse("admin:payments_banktransferorder_record", args=[order.pk])
    today = dt.date.today().isoformat()
    wrong = admin_client.post(url, {"amount": "5000.00", "credited_on": today, "reference": "SB-1"})
    assert "does not match the order total" in wrong.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT and not order.payments.exists()
    future = admin_client.post(url, {"amount": "5340.00", "credited_on": "2999-01-01", "reference": "SB-1"})
    assert "cannot be credited in the future" in future.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"amount": "5340.00", "credited_on": today, "reference": "SB-1"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.payments.get().bank_reference == "SB-1"


def test_staff_without_permission_cannot_record_funds(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    order = make_order(payment_method="bank_transfer", user=None)
    response = client.post(
        reverse("admin:payments_banktransferorder_record", args=[order.pk]),
        {"amount": "5340.00", "credited_on": dt.date.today().isoformat(), "reference": "SB-1"},
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_payment_and_refund_change_pages_render_read_only(admin_client):
    order = make_order(status="processing", payment_method="cash_courier", user=None)
    payment = completed_payment(order, gateway="courier")
    refund = services.refund_issue(order_id=order.pk, amount=rub("10.00"), reason="x")
    for url in [
        reverse("admin:payments_payment_change", args=[payment.pk]),
        reverse("admin:payments_refund_change", args=[refund.pk]),
        reverse("admin:payments_payment_refund", args=[payment.pk]),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert order.number in response.content.decode()
    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403
