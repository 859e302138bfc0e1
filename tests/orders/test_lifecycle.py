"""The one table of allowed moves (orders/lifecycle.py) and the services that respect it."""

import pytest

from orders import lifecycle, services
from orders.lifecycle import TRANSITIONS, TransitionNotAllowed
from orders.models import Order, OrderStatus
from tests.orders.lifecycle_support import isolate_hooks, make_order

S = OrderStatus


def test_every_status_appears_in_the_table():
    assert set(TRANSITIONS) == set(S.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(S.values)
    reachable = set().union(*TRANSITIONS.values())
    # Orders start in AWAITING_PAYMENT (prepaid) or PROCESSING (paid on delivery); every other status is reachable.
    assert set(S.values) - reachable <= {S.AWAITING_PAYMENT}


def test_closed_statuses_have_no_way_out():
    assert TRANSITIONS[S.CANCELLED] == set()
    assert TRANSITIONS[S.REFUNDED] == set()


def test_ord_refuse_cancellable_statuses_are_those_before_dispatch():
    assert {
        S.AWAITING_PAYMENT,
        S.FRAUD_CHECK,
        S.PAID,
        S.PRICE_CONFIRMATION,
        S.PROCESSING,
        S.STOCK_DECISION,
        S.PACKED,
    } == lifecycle.CANCELLABLE


@pytest.mark.parametrize(("source", "target"), [(s, t) for s in S.values for t in S.values if t not in TRANSITIONS[s]])
def test_check_raises_for_every_move_not_in_the_table(source, target):
    order = Order(number="RX-TEST-0001", status=source)
    with pytest.raises(TransitionNotAllowed) as info:
        lifecycle.check(order, to=target)
    assert info.value.source == source and info.value.target == target
    assert order.status == source


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "move"),
    [
        (S.SHIPPED, lambda o: services.order_cancel(order_id=o.pk, reason="too late")),
        (S.AWAITING_PAYMENT, lambda o: services.order_start_processing(order_id=o.pk, actor=None)),
        (S.PAID, lambda o: services.order_fraud_approve(order_id=o.pk, actor=None)),
        (
            S.COMPLETED,
            lambda o: services.order_price_error_mark(order_id=o.pk, corrections={o.lines.get().pk: 1}, actor=None),
        ),
        (
            S.PROCESSING,
            lambda o: services.order_mark_paid(order_id=o.pk, amount=o.total, paid_at=o.created_at, method="paypal"),
        ),
    ],
)
def test_a_move_not_in_the_table_raises_and_changes_nothing(monkeypatch, status, move):
    calls = isolate_hooks(monkeypatch)
    order = make_order(status=status, payment_method="cash_courier")
    before = Order.objects.values().get(pk=order.pk)
    with pytest.raises(TransitionNotAllowed):
        move(order)
    assert Order.objects.values().get(pk=order.pk) == before
    assert not order.events.exists()
    assert not order.price_corrections.exists()
    assert calls == []
