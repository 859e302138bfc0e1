"""Order moves after confirmation: payment, fraud check, holds, cancellation (orders/services.py)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from orders import holds, services
from orders.errors import OrderActionError, OrderErrorCode
from orders.lifecycle import OrderOnHold, TransitionNotAllowed
from orders.models import HoldKind, Order, OrderEvent
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order

pytestmark = pytest.mark.django_db
T = OrderEvent.Type
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    """Hooks into payments/shipping are recorded, not run (their own tests cover the receivers)."""
    return isolate_hooks(monkeypatch)


def _pay(order, *, method="paypal", when=None, amount=None):
    return services.order_mark_paid(
        order_id=order.pk,
        amount=amount or order.total,
        paid_at=when or dt.datetime(2026, 11, 18, 11, 0, tzinfo=MSK),
        method=method,
        reference="CAP-1",
    )


# --- PAY-PREPAID-FIRST / order_mark_paid ------------------------------------------------------
def test_pay_prepaid_first_mark_paid_takes_stock_and_acknowledges_with_payment(
    django_capture_on_commit_callbacks, hook_calls
):
    order = make_order(stock=5, lines=[("4990.00", 2)])
    with django_capture_on_commit_callbacks(execute=True):
        _pay(order)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert holds.open_kinds(order) == set()
    assert order.stock_taken
    assert order.lines.get().product.stock == 3
    assert ("order_paid", order.pk) in hook_calls
    assert len(mail.outbox) == 1
    ack = mail.outbox[0]
    assert order.number in ack.subject
    assert "Payment received: RUB 10,330.00 on 18 November 2026" in ack.body
    assert ack.attachments[0][0] == f"invoice-{order.number}.pdf"
    assert order.events.filter(type=T.PAID).count() == 1
    move = order.events.get(type=T.STATUS_CHANGED)
    assert {key: move.parameters[key] for key in ("source", "target")} == {
        "source": "awaiting_payment",
        "target": "processing",
    }


def test_mark_paid_twice_is_a_no_op(django_capture_on_commit_callbacks, hook_calls):
    order = make_order()
    with django_capture_on_commit_callbacks(execute=True):
        first = _pay(order)
        second = _pay(order, when=dt.datetime(2026, 11, 19, 11, 0, tzinfo=MSK))
    assert second.paid_at == first.paid_at
    assert Order.objects.get(pk=order.pk).events.filter(type=T.PAID).count() == 1
    assert [c for c in hook_calls if c[0] == "order_paid"] == [("order_paid", order.pk)]
    assert len(mail.outbox) == 1


def test_pay_prepaid_first_short_stock_waits_for_the_customers_choice(django_capture_on_commit_callbacks):
    order = make_order(stock=1, lines=[("1000.00", 2)])
    with django_capture_on_commit_callbacks(execute=True):
        _pay(order)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert holds.open_kinds(order) == {HoldKind.STOCK_DECISION}
    # SHIP-STOCKOUT: the unit on the shelf is reserved at once; the missing one is short on its line.
    assert order.stock_taken
    short = order.events.get(type=T.STOCK_SHORT)
    assert "1 × Бинокль 1 10x42" in short.message
    line = order.lines.get()
    assert line.product.stock == 0 and line.quantity_short == 1 and line.quantity_on_shelf == 1


def test_mark_paid_refused_for_an_order_not_awaiting_payment():
    order = make_order(status="processing", payment_method="cash_courier")
    with pytest.raises(TransitionNotAllowed):
        _pay(order)
    order.refresh_from_db()
    assert order.paid_at is None and order.status == "processing"


def test_bank_transfer_acknowledged_at_confirmation_gets_a_payment_receipt(django_capture_on_commit_callbacks):
    from orders.notifications import order_acknowledgement_queue

    order = make_order(payment_method="bank_transfer")
    with django_capture_on_commit_callbacks(execute=True):
        order_acknowledgement_queue(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(order, method="bank_transfer")
    assert len(mail.outbox) == 2
    assert "Payment received" in mail.outbox[1].subject
    assert "Payment received: RUB 5,340.00 on 18 November 2026" in mail.outbox[1].body


# --- SHIP-WITHIN-2BD --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("paid_local", "ship_by_local"),
    [
        # Friday 14:59 is inside business hours: two business days later, same time (Tuesday).
        (dt.datetime(2026, 11, 20, 14, 59), dt.datetime(2026, 11, 24, 14, 59)),
        # Friday 15:01 is after hours: counting starts Monday 09:00, deadline Wednesday 09:00.
        (dt.datetime(2026, 11, 20, 15, 1), dt.datetime(2026, 11, 25, 9, 0)),
    ],
)
def test_ship_within_2bd_deadline_from_payment_friday_before_and_after_closing(paid_local, ship_by_local):
    order = make_order()
    _pay(order, when=paid_local.replace(tzinfo=MSK))
    order.refresh_from_db()
    assert order.ship_by.astimezone(MSK).replace(tzinfo=None) == ship_by_local


def test_ship_within_2bd_skips_a_public_holiday():
    """Paid on Wednesday 10 June 2026 at noon; Friday 12 June (Russia Day) is no business day."""
    order = make_order()
    _pay(order, when=dt.datetime(2026, 6, 10, 12, 0, tzinfo=MSK))
    order.refresh_from_db()
    assert order.ship_by.astimezone(MSK).date() == dt.date(2026, 6, 15)


# --- PAY-FRAUD-CHECK --------------------------------------------------------------------------
def test_pay_fraud_check_card_payment_stops_for_review_then_approved(django_capture_on_commit_callbacks):
    staff = UserFactory(username="checker", is_staff=True)
    order = make_order(payment_method="card_online")
    with django_capture_on_commit_callbacks(execute=True):
        _pay(order, method="card_online")
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert holds.open_kinds(order) == {HoldKind.FRAUD_REVIEW}
    assert order.stock_taken  # money is in: stock is reserved while staff check
    with pytest.raises(OrderOnHold):  # held: it cannot be packed before staff approve
        services.lifecycle.check(order, to=Order.Status.PACKED)

    with django_capture_on_commit_callbacks(execute=True):
        services.order_fraud_approve(order_id=order.pk, actor=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert holds.open_kinds(order) == set()
    services.lifecycle.check(order, to=Order.Status.PACKED)  # free to go on
    event = order.events.get(type=T.FRAUD_REVIEW_APPROVED)
    assert event.actor == staff
    released = order.events.get(type=T.HOLD_RELEASED)
    assert released.parameters["kind"] == HoldKind.FRAUD_REVIEW
    assert any("preparing your order" in m.body for m in mail.outbox)
    # Approving again changes nothing.
    services.order_fraud_approve(order_id=order.pk, actor=staff)
    assert order.events.filter(type=T.FRAUD_REVIEW_APPROVED).count() == 1


def test_pay_fraud_check_reject_cancels_through_the_fraud_review_service_and_refunds(
    django_capture_on_commit_callbacks, hook_calls
):
    staff = UserFactory(username="checker3", is_staff=True)
    order = make_order(payment_method="card_online")
    _pay(order, method="card_online")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_fraud_reject(order_id=order.pk, actor=staff, note="Card payment could not be verified.")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Card payment could not be verified."
    assert order.events.get(type=T.FRAUD_REVIEW_REJECTED).actor == staff
    assert holds.open_kinds(order) == set()
    assert ("order_cancelled", order.pk) in hook_calls
    assert "Your payment will be refunded the way you paid." in mail.outbox[-1].body


def test_pay_fraud_check_reject_refused_for_an_order_not_in_review():
    order = make_order(status="processing", payment_method="cash_courier")
    with pytest.raises(OrderActionError) as info:
        services.order_fraud_reject(order_id=order.pk, actor=None)
    assert info.value.code == OrderErrorCode.NOT_IN_FRAUD_REVIEW
    order.refresh_from_db()
    assert order.status == "processing" and not order.events.exists()


def test_fraud_approve_with_stock_short_keeps_the_stock_hold():
    staff = UserFactory(username="checker2", is_staff=True)
    order = make_order(payment_method="card_online", stock=0)
    _pay(order, method="card_online")
    order.refresh_from_db()
    assert holds.open_kinds(order) == {HoldKind.FRAUD_REVIEW, HoldKind.STOCK_DECISION}
    assert order.lines.get().quantity_short == 1  # nothing on the shelf: the unit is short
    services.order_fraud_approve(order_id=order.pk, actor=staff)
    order.refresh_from_db()
    assert holds.open_kinds(order) == {HoldKind.STOCK_DECISION}
    assert order.status == Order.Status.PROCESSING


def test_ship_stockout_hold_is_due_after_the_policy_business_days():
    """SHIP-STOCKOUT: the customer's choice is due 3 business days after the hold opens (stored, indexed)."""
    import time_machine

    order = make_order(stock=0)
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK), tick=False):  # a Friday
        _pay(order)
    hold = holds.open_hold(order, HoldKind.STOCK_DECISION)
    assert hold.due_at.astimezone(MSK) == dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)
    assert list(holds.holds_due(HoldKind.STOCK_DECISION, now=hold.due_at + dt.timedelta(seconds=1))) == [hold]


# --- ORD-REFUSE -------------------------------------------------------------------------------
def test_ord_refuse_cancel_releases_stock_emails_reason_and_shows_on_the_customers_page(
    client, django_capture_on_commit_callbacks, hook_calls
):
    customer = UserFactory(username="olga")
    order = make_order(user=customer, email="olga@example.com", stock=4, lines=[("2500.00", 3)])
    _pay(order)
    assert order.lines.get().product.stock == 1
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=order.pk, reason="The lens model was discontinued.")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "The lens model was discontinued."
    assert order.lines.get().product.stock == 4
    assert not order.stock_taken
    assert order.lines.get().quantity_cancelled == 3
    assert order.ship_by is None  # SHIP-WITHIN-2BD: nothing to ship any more
    assert ("order_cancelled", order.pk) in hook_calls
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olga@example.com"]
    assert "Reason: The lens model was discontinued." in message.body
    assert "refunded" in message.body

    client.force_login(customer)
    page = client.get(reverse("orders:detail", kwargs={"number": order.number}))
    assert page.status_code == 200
    assert "Cancelled" in page.content.decode()


def test_ord_refuse_cancel_without_reason_and_twice_is_once(django_capture_on_commit_callbacks, hook_calls):
    order = make_order(status="processing", payment_method="cash_courier")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=order.pk)
        services.order_cancel(order_id=order.pk, reason="again")
    order.refresh_from_db()
    assert order.cancel_reason == ""
    assert order.events.filter(type=T.CANCELLED).count() == 1
    assert [c for c in hook_calls if c[0] == "order_cancelled"] == [("order_cancelled", order.pk)]
    assert len(mail.outbox) == 1
    assert "Reason:" not in mail.outbox[0].body


def test_ord_refuse_cannot_cancel_a_shipped_order():
    order = make_order(status="shipped", payment_method="cash_courier")
    with pytest.raises(TransitionNotAllowed):
        services.order_cancel(order_id=order.pk, reason="late")
    order.refresh_from_db()
    assert order.status == "shipped" and order.cancelled_at is None
    assert not order.events.exists()


def test_cancel_in_a_rolled_back_transaction_sends_nothing(django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier")

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom), transaction.atomic():
        services.order_cancel(order_id=order.pk, reason="x")
        raise Boom
    order.refresh_from_db()
    assert order.status == "processing"
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pay_paypal_return_and_webhook_at_once_mark_paid_once():
    """Two confirmations racing (PayPal return and webhook): the row lock lets exactly one through."""
    import threading

    from django.db import connection

    order = make_order(stock=1, lines=[("4990.00", 1)])
    barrier = threading.Barrier(2)
    errors = []

    def confirm():
        try:
            barrier.wait()
            _pay(order)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert order.events.filter(type=T.PAID).count() == 1
    assert order.lines.get().product.stock == 0


# --- SHIP-SUBCONTRACTOR: ready to fulfil ------------------------------------------------------
def test_ship_subcontractor_paid_order_without_holds_is_ready_once(hook_calls):
    order = make_order()
    _pay(order)
    order.refresh_from_db()
    assert order.ready_at is not None
    assert order.events.filter(type=T.READY).count() == 1
    assert [c for c in hook_calls if c[0] == "order_ready"] == [("order_ready", order.pk)]
    with transaction.atomic():
        assert services.order_ready_check(services.lock_order(order.pk)) is True  # again: nothing new
    assert order.events.filter(type=T.READY).count() == 1
    assert [c for c in hook_calls if c[0] == "order_ready"] == [("order_ready", order.pk)]


def test_ship_subcontractor_card_payment_is_ready_only_after_the_fraud_review(hook_calls):
    order = make_order(payment_method="card_online")
    _pay(order, method="card_online")
    order.refresh_from_db()
    assert order.ready_at is None and ("order_ready", order.pk) not in hook_calls
    services.order_fraud_approve(order_id=order.pk, actor=None)
    order.refresh_from_db()
    assert order.ready_at is not None and ("order_ready", order.pk) in hook_calls


def test_ship_subcontractor_unpaid_prepaid_order_is_not_ready():
    order = make_order()
    with transaction.atomic():
        assert services.order_ready_check(services.lock_order(order.pk)) is False
    order.refresh_from_db()
    assert order.ready_at is None


def test_staff_note_is_in_the_timeline_but_not_the_customers():
    staff = UserFactory(username="noter", is_staff=True)
    order = make_order(status="processing", payment_method="cash_courier")
    services.order_note_add(order_id=order.pk, text="Customer asked for gift wrap.", actor=staff)
    note = order.events.get(type=T.STAFF_NOTE)
    assert note.actor == staff and not note.customer_visible and "gift wrap" in note.message
    with pytest.raises(OrderActionError) as info:
        services.order_note_add(order_id=order.pk, text="  ", actor=staff)
    assert info.value.code == OrderErrorCode.NO_TEXT
