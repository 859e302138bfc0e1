"""The one table of allowed moves (orders/lifecycle.py), holds, and the services that respect them."""

import pytest
from django.db import IntegrityError, transaction

from orders import holds, lifecycle, services
from orders.errors import OrderActionError
from orders.lifecycle import TRANSITIONS, OrderOnHold, TransitionNotAllowed
from orders.models import HoldKind, Order, OrderEvent, OrderHold, OrderStatus
from shop.locks import lock_order
from tests.orders.lifecycle_support import isolate_hooks, make_order

S = OrderStatus


def test_every_status_appears_in_the_table():
    assert set(TRANSITIONS) == set(S.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(S.values)
    reachable = set().union(*TRANSITIONS.values())
    # Orders start in AWAITING_PAYMENT (prepaid) or PROCESSING (paid on delivery); every other status is reachable.
    assert set(S.values) - reachable <= {S.AWAITING_PAYMENT}


def test_the_status_is_the_fulfilment_life_only():
    """Payment (payment_status) and temporary stops (holds) are not statuses any more."""
    assert not {"paid", "fraud_check", "price_confirmation", "stock_decision", "claim_open", "refunded"} & set(S.values)


def test_closed_statuses_have_no_way_out():
    for closed in (S.CANCELLED, S.COMPLETED, S.REFUSED):
        assert TRANSITIONS[closed] == set()


def test_ord_refuse_cancellable_statuses_are_those_before_dispatch():
    assert {S.AWAITING_PAYMENT, S.PROCESSING, S.PACKED} == lifecycle.CANCELLABLE


@pytest.mark.parametrize(("source", "target"), [(s, t) for s in S.values for t in S.values if t not in TRANSITIONS[s]])
def test_check_raises_for_every_move_not_in_the_table(source, target):
    order = Order(number="RX-TEST-0001", status=source)
    with pytest.raises(TransitionNotAllowed) as info:
        lifecycle.check(order, to=target)
    assert info.value.source == source and info.value.target == target
    assert info.value.code == "transition_not_allowed"
    assert order.status == source


@pytest.mark.django_db
def test_move_saves_the_status_and_writes_one_event_with_source_and_target():
    order = make_order(status="processing", payment_method="cash_courier")
    with transaction.atomic():
        source = lifecycle.move(lock_order(order.pk), S.PACKED, note="Packed by Anna.")
    assert source == S.PROCESSING
    order.refresh_from_db()
    assert order.status == S.PACKED
    event = order.events.get()
    assert event.type == OrderEvent.Type.STATUS_CHANGED
    assert {key: event.parameters[key] for key in ("source", "target")} == {"source": "processing", "target": "packed"}
    # The sentence is kept to be translated for its reader (issue #12): the status is named by its value.
    assert event.parameters["say"]["values"]["status"] == {"choice": "order_status", "value": "packed"}
    assert "Packed by Anna." in event.message


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [HoldKind.PRICE_CONFIRMATION, HoldKind.FRAUD_REVIEW, HoldKind.STOCK_DECISION])
@pytest.mark.parametrize("target", sorted(lifecycle.HELD_TARGETS & set(TRANSITIONS[S.PROCESSING])))
def test_an_order_on_hold_cannot_be_packed_or_shipped(kind, target):
    order = make_order(status="processing", payment_method="cash_courier")
    with transaction.atomic():
        holds.hold_open(order=lock_order(order.pk), kind=kind)
    with pytest.raises(OrderOnHold) as info, transaction.atomic():
        lifecycle.move(lock_order(order.pk), target)
    assert info.value.code == "order_on_hold"
    order.refresh_from_db()
    assert order.status == S.PROCESSING
    assert not order.events.filter(type=OrderEvent.Type.STATUS_CHANGED).exists()
    # Released, the same move goes through.
    with transaction.atomic():
        holds.hold_release(order=lock_order(order.pk), kind=kind, resolution="done")
        lifecycle.move(lock_order(order.pk), target)
    assert Order.objects.get(pk=order.pk).status == target


@pytest.mark.django_db
def test_one_open_hold_per_kind_and_opening_twice_returns_the_first():
    order = make_order(status="processing", payment_method="cash_courier")
    with transaction.atomic():
        first = holds.hold_open(order=lock_order(order.pk), kind=HoldKind.STOCK_DECISION)
        again = holds.hold_open(order=lock_order(order.pk), kind=HoldKind.STOCK_DECISION)
    assert first.pk == again.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderHold.objects.create(order=order, kind=HoldKind.STOCK_DECISION)
    # A released hold is history: a new one of the same kind may open.
    with transaction.atomic():
        holds.hold_release(order=lock_order(order.pk), kind=HoldKind.STOCK_DECISION, resolution="stock arrived")
        later = holds.hold_open(order=lock_order(order.pk), kind=HoldKind.STOCK_DECISION)
    assert later.pk != first.pk
    assert OrderHold.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_a_hold_opens_only_where_its_table_allows():
    order = make_order(status="shipped", payment_method="cash_courier")
    with pytest.raises(OrderActionError) as info, transaction.atomic():
        holds.hold_open(order=lock_order(order.pk), kind=HoldKind.STOCK_DECISION)
    assert info.value.code == "not_allowed"
    assert not OrderHold.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "move", "error"),
    [
        (S.SHIPPED, lambda o: services.order_cancel(order_id=o.pk, reason="too late"), TransitionNotAllowed),
        (S.PROCESSING, lambda o: services.order_fraud_approve(order_id=o.pk, actor=None), OrderActionError),
        (
            S.COMPLETED,
            lambda o: services.order_price_error_mark(order_id=o.pk, corrections={o.lines.get().pk: 1}, actor=None),
            OrderActionError,
        ),
        (
            S.PROCESSING,
            lambda o: services.order_mark_paid(order_id=o.pk, amount=o.total, paid_at=o.created_at, method="paypal"),
            TransitionNotAllowed,
        ),
    ],
)
def test_a_move_not_allowed_raises_and_changes_nothing(
    monkeypatch, django_capture_on_commit_callbacks, status, move, error
):
    calls = isolate_hooks(monkeypatch)
    order = make_order(status=status, payment_method="cash_courier")
    before = Order.objects.values().get(pk=order.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(error):
        move(order)
    assert Order.objects.values().get(pk=order.pk) == before
    assert not order.events.exists()
    assert not order.price_corrections.exists()
    assert not order.holds.exists()
    assert calls == []
    assert callbacks == []
