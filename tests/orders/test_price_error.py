"""ORD-PRICE-ERROR: staff correct a wrong price; the customer accepts or cancels; no answer cancels."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from orders import holds, services
from orders.errors import OrderErrorCode
from orders.models import HoldKind, Order, OrderEvent, PriceCorrection
from orders.tasks import orders_cancel_unanswered_price_errors
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order

pytestmark = pytest.mark.django_db
T = OrderEvent.Type
PRICE_HOLD = HoldKind.PRICE_CONFIRMATION
MSK = ZoneInfo("Europe/Moscow")
MARKED_AT = dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK)


@pytest.fixture
def staff():
    return UserFactory(username="pricer", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    """Hooks into payments are recorded, not run (the payments tests cover the refunds)."""
    return isolate_hooks(monkeypatch)


def _link(message) -> str:
    return re.search(r"http://testserver(/orders/price/\S+)", message.body).group(1)


def _mark(order, staff, price="3990.00"):
    line = order.lines.get()
    return services.order_price_error_mark(order_id=order.pk, corrections={line.pk: Decimal(price)}, actor=staff)


@time_machine.travel(MARKED_AT, tick=False)
def test_ord_price_error_mark_emails_a_link_to_answer(staff, client, django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 2)])
    with django_capture_on_commit_callbacks(execute=True):
        _mark(order, staff)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING  # the fulfilment status stays; a hold stops it
    hold = holds.open_hold(order, PRICE_HOLD)
    # "3 days": calendar days from the moment staff marked it.
    assert hold.due_at == MARKED_AT + dt.timedelta(days=3)
    assert order.events.get(type=T.PRICE_ERROR_MARKED).parameters["new_total"]["amount"] == "8330.00"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "corrected price" in message.subject
    assert "RUB 4,990.00 → RUB 3,990.00" in message.body
    assert "RUB 10,330.00 → RUB 8,330.00" in message.body

    page = client.get(_link(message))  # a guest following the signed link from the e-mail
    assert page.status_code == 200
    html = page.content.decode()
    assert "Accept new price" in html and "Cancel order" in html
    assert "RUB 8,330.00" in html and "RUB 10,330.00" in html


def test_ord_price_error_answer_page_is_owner_only(staff, client):
    order = make_order(status="processing", payment_method="cash_courier")
    _mark(order, staff)
    page = client.get(reverse("price:answer", kwargs={"number": order.number}))
    assert page.status_code == 404
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    assert client.get(reverse("price:answer", kwargs={"number": order.number})).status_code == 404


@time_machine.travel(MARKED_AT, tick=False)
def test_ord_price_error_accept_updates_total_with_event_and_email(staff, client, django_capture_on_commit_callbacks):
    customer = UserFactory(username="ivan")
    order = make_order(user=customer, status="processing", payment_method="cash_courier", lines=[("4990.00", 2)])
    _mark(order, staff)
    mail.outbox.clear()
    client.force_login(customer)
    url = reverse("price:answer", kwargs={"number": order.number})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"answer": "accept"})
    assert response.status_code == 302

    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert holds.open_kinds(order) == set()
    assert order.total.amount == Decimal("8330.00")
    assert order.subtotal.amount == Decimal("7980.00")
    line = order.lines.get()
    assert line.unit_price.amount == Decimal("3990.00") and line.line_total.amount == Decimal("7980.00")
    event = order.events.get(type=T.PRICE_ERROR_ACCEPTED)
    assert event.parameters["old_total"]["amount"] == "10330.00"
    assert event.parameters["new_total"]["amount"] == "8330.00"
    assert PriceCorrection.objects.get(order=order).accepted is True
    assert len(mail.outbox) == 1 and "accepted" in mail.outbox[0].subject
    assert "RUB 8,330.00 (was RUB 10,330.00)" in mail.outbox[0].body

    page = client.get(url).content.decode()
    assert "This question has been answered" in page
    assert "Accept new price" not in page


def test_ord_price_error_accept_lower_price_on_paid_order_refunds_difference(
    staff, hook_calls, django_capture_on_commit_callbacks
):
    order = make_order(lines=[("4990.00", 1)])
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=MARKED_AT, method="paypal", reference="CAP")
    _mark(order, staff, price="4000.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_price_error_answer(order_id=order.pk, accept=True)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING and holds.open_kinds(order) == set()
    assert ("order_refund_due", order.pk, Decimal("990.00")) in hook_calls
    assert "RUB 990.00 will be refunded" in mail.outbox[-1].body


def test_ord_price_error_higher_price_on_paid_order_refused(staff):
    order = make_order(lines=[("4990.00", 1)])
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=MARKED_AT, method="paypal")
    with pytest.raises(services.OrderActionError) as info:
        _mark(order, staff, price="5990.00")
    assert info.value.code == OrderErrorCode.PAID_PRICE_RISE
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING and holds.open_kinds(order) == set()
    assert not PriceCorrection.objects.exists()


def test_ord_price_error_decline_cancels(staff, client, django_capture_on_commit_callbacks):
    customer = UserFactory(username="maria")
    order = make_order(user=customer, status="processing", payment_method="cash_courier", stock=3)
    order.stock_taken = True
    order.save(update_fields=["stock_taken"])
    _mark(order, staff)
    mail.outbox.clear()
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("price:answer", kwargs={"number": order.number}), {"answer": "cancel"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.lines.get().product.stock == 4  # stock released
    assert order.events.filter(type=T.PRICE_ERROR_DECLINED).count() == 1
    assert holds.open_kinds(order) == set()
    assert order.lines.get().quantity_cancelled == 1
    assert len(mail.outbox) == 1
    assert "has been cancelled" in mail.outbox[0].subject
    assert "You declined the corrected price." in mail.outbox[0].body


def test_ord_price_error_no_answer_past_deadline_cancels_once(staff, django_capture_on_commit_callbacks):
    answered = make_order(status="processing", payment_method="cash_courier")
    silent = make_order(status="processing", payment_method="cash_courier")
    with time_machine.travel(MARKED_AT, tick=False):
        _mark(answered, staff)
        _mark(silent, staff)
        services.order_price_error_answer(order_id=answered.pk, accept=True)
    mail.outbox.clear()

    with time_machine.travel(MARKED_AT + dt.timedelta(days=2, hours=23), tick=False):
        assert orders_cancel_unanswered_price_errors.delay().get() == 0
    later = MARKED_AT + dt.timedelta(days=3, minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_unanswered_price_errors.delay().get() == 1
        assert orders_cancel_unanswered_price_errors.delay().get() == 0  # idempotent

    silent.refresh_from_db()
    answered.refresh_from_db()
    assert silent.status == Order.Status.CANCELLED
    assert answered.status == Order.Status.PROCESSING
    assert silent.events.filter(type=T.PRICE_ERROR_TIMED_OUT).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [silent.email]
    assert "No answer to the corrected price in time." in mail.outbox[0].body


def test_ord_price_error_answer_after_deadline_is_refused_and_page_says_so(staff, client):
    customer = UserFactory(username="petr")
    order = make_order(user=customer, status="processing", payment_method="cash_courier")
    with time_machine.travel(MARKED_AT, tick=False):
        _mark(order, staff)
    client.force_login(customer)
    url = reverse("price:answer", kwargs={"number": order.number})
    with time_machine.travel(MARKED_AT + dt.timedelta(days=4), tick=False):
        html = client.get(url).content.decode()
        assert "The time to answer has passed" in html
        assert "Accept new price" not in html
        client.post(url, {"answer": "accept"})
        with pytest.raises(services.OrderActionError) as info:
            services.order_price_error_answer(order_id=order.pk, accept=True)
        assert info.value.code == OrderErrorCode.ANSWER_TOO_LATE
    order.refresh_from_db()
    assert holds.open_kinds(order) == {PRICE_HOLD}
    assert order.lines.get().unit_price.amount == Decimal("4990.00")


def test_ord_price_error_bad_corrections_change_nothing(staff):
    order = make_order(status="processing", payment_method="cash_courier")
    line = order.lines.get()
    for corrections, code in [
        ({}, OrderErrorCode.NO_CORRECTION),
        ({line.pk: Decimal("4990.00")}, OrderErrorCode.SAME_PRICE),
        ({line.pk: Decimal("-1")}, OrderErrorCode.NEGATIVE_PRICE),
        ({line.pk + 999: Decimal("10")}, OrderErrorCode.UNKNOWN_LINE),
    ]:
        with pytest.raises(services.OrderActionError) as info:
            services.order_price_error_mark(order_id=order.pk, corrections=corrections, actor=staff)
        assert info.value.code == code
    order.refresh_from_db()
    assert order.status == "processing" and not order.events.exists() and not order.holds.exists()


def test_ord_price_error_decline_on_a_paid_order_refunds_through_cancellation(
    staff, hook_calls, django_capture_on_commit_callbacks
):
    order = make_order(lines=[("4990.00", 1)])
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=MARKED_AT, method="paypal")
    _mark(order, staff, price="4000.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_price_error_answer(order_id=order.pk, accept=False)
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert ("order_cancelled", order.pk) in hook_calls
    assert "Your payment will be refunded the way you paid." in mail.outbox[-1].body


def test_ord_price_error_sweep_with_nothing_due_is_one_query(staff, django_assert_num_queries):
    for _ in range(3):
        with time_machine.travel(MARKED_AT, tick=False):
            _mark(make_order(status="processing", payment_method="cash_courier"), staff)
    with time_machine.travel(MARKED_AT + dt.timedelta(days=1), tick=False), django_assert_num_queries(1):
        assert services.orders_cancel_unanswered_price_errors() == 0


def test_ord_price_error_payment_arriving_while_the_customer_decides_is_not_applied(staff):
    """Money for the old total while a corrected price waits for an answer: the order is not paid by it."""
    from orders.lifecycle import OrderOnHold

    order = make_order(lines=[("4990.00", 1)])
    _mark(order, staff, price="3990.00")
    with pytest.raises(OrderOnHold):
        services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=MARKED_AT, method="paypal")
    order.refresh_from_db()
    assert order.paid_at is None and order.status == Order.Status.AWAITING_PAYMENT
