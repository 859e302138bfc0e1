"""Helpers for the order-lifecycle tests (not a test module)."""

from __future__ import annotations

from decimal import Decimal

from djmoney.money import Money

from tests.factories import OrderFactory, OrderLineFactory, ProductFactory


def rub(amount) -> Money:
    return Money(Decimal(str(amount)), "RUB")


def make_order(*, lines=((Decimal("4990.00"), 1),), stock: int = 10, delivery="350.00", **kwargs):
    """An order whose stored totals match its lines: ``lines`` is ((unit price, quantity), ...)."""
    subtotal = sum((Decimal(str(price)) * qty for price, qty in lines), Decimal("0"))
    kwargs.setdefault("status", "awaiting_payment")
    kwargs.setdefault("payment_method", "paypal")
    order = OrderFactory(
        subtotal=rub(subtotal),
        delivery_cost=rub(delivery),
        discount=rub(0),
        total=rub(subtotal + Decimal(delivery)),
        **kwargs,
    )
    for i, (price, qty) in enumerate(lines):
        product = ProductFactory(stock=stock, price=rub(price), name=f"Бинокль {i + 1} 10x42")
        OrderLineFactory(order=order, product=product, unit_price=rub(price), quantity=qty)
    return order


def isolate_hooks(
    monkeypatch, names=("order_paid", "order_ready", "order_cancelled", "order_refund_due", "order_confirmed")
):
    """Replace the hook receivers of the higher apps with a recorder; returns the list of calls.

    Payments/shipping register real receivers in their AppConfig.ready(); these tests check only
    that the lifecycle calls the hooks, with which arguments, after commit.
    """
    from collections import defaultdict

    from shop import hooks

    calls: list[tuple] = []
    monkeypatch.setattr(hooks, "_receivers", defaultdict(list))
    for name in names:
        hooks.register(name, lambda *args, _name=name, **kwargs: calls.append((_name, *args)))
    return calls
