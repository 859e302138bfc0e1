"""Every row lock the shop takes, in one module.

Lock order (always, in every service):

    WebhookEvent → Cart → CartLine → Order → Case → OrderLine → Shipment → Payment → Refund
        → PayPalTracker → CustomerStanding → Discount → BonusAccount → Product → Email → PartnerNotice

Several rows of one model are locked in primary-key order. A service that touches an order's money
locks the order first, so everything that changes one order queues on one row and two services can
never wait for each other in opposite orders (no deadlock). A PayPal event row is locked before the
order it pays; a cart before the order it becomes. Products (stock) come after the order: two orders
racing for the last units queue on the product rows in pk order. An order's lines are locked right
after it (a shipment adds to their shipped counters), then its parcels. A PayPal tracker (a shipment
owed to PayPal) is locked alone by the worker that adds it. The outbox row and the partner notice
come last: the worker sends an e-mail, or POSTs a notice to the fulfilment partner, holding only
that row. Discounts (usage limits, PAY-DISCOUNTS) are locked at confirmation after the cart, in pk order,
so customers racing for the last use of a code queue on the discount row; the customer's bonus account
comes next (points spent at confirmation, earned when the order completes, taken back when a refund is
sent: always after the order, its payment and refund), and stock after both.

Every lock is ``select_for_update(of=("self",))``: joined rows (``select_related``) are read,
never locked by accident. SQLite has no row locks; there ``transaction_mode=IMMEDIATE``
(config/settings.py) serialises writers instead.

Models are looked up by label so ``shop`` imports no higher app.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import IntegrityError, transaction


def _model(label: str):
    return apps.get_model(label)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Row locks are held until commit: take them inside transaction.atomic().")


def _lock_many(label: str, related: tuple[str, ...] = (), **filters) -> list:
    _require_transaction()
    rows = _model(label).objects.select_for_update(of=("self",)).select_related(*related)
    return list(rows.filter(**filters).order_by("pk"))


def lock_order(order_id: int, *, related: tuple[str, ...] = ()):
    """The order row (first in the lock order); ``related``: foreign keys read with it (not locked)."""
    _require_transaction()
    return _model("orders.Order").objects.select_for_update(of=("self",)).select_related(*related).get(pk=order_id)


def lock_orders(order_ids: Iterable[int], *, related: tuple[str, ...] = ()) -> dict:
    """Several orders by pk, locked in pk order in one query (a periodic sweep's batch, issue #14);
    ``related``: foreign keys read with them (not locked)."""
    return {order.pk: order for order in _lock_many("orders.Order", related, pk__in=list(order_ids))}


def lock_order_lines(order_id: int) -> dict:
    """The order's lines by pk, locked in pk order; the caller locked the order first."""
    return {line.pk: line for line in _lock_many("orders.OrderLine", order_id=order_id)}


def lock_shipment(shipment_id: int, *, order_id: int | None = None):
    """One parcel (shipping.Shipment); the caller locked its order first. ``order_id`` checks it belongs."""
    _require_transaction()
    rows = _model("shipping.Shipment").objects.select_for_update(of=("self",))
    if order_id is not None:
        rows = rows.filter(order_id=order_id)
    return rows.get(pk=shipment_id)


def lock_shipments(shipment_ids: Iterable[int]) -> dict:
    """Several parcels by pk, in pk order in one query; the caller locked their orders first (``lock_orders``)."""
    return {shipment.pk: shipment for shipment in _lock_many("shipping.Shipment", pk__in=list(shipment_ids))}


def lock_case(case_id: int):
    """One after-sale case (refunds.Case); the caller locked its order first. A case's refund then
    locks the order's payments (refunds.services.case_refund), so two refunds of one order queue on the
    order row and never exceed what was captured (PAY-REFUND-SAME-WAY). A case is locked right after its
    order, before the order's lines (goods coming back add to their returned counters)."""
    _require_transaction()
    return _model("refunds.Case").objects.select_for_update(of=("self",)).get(pk=case_id)


def lock_payment(payment_id: int):
    """One payment; the caller locked its order first. ``payment.order`` is loaded, not locked."""
    _require_transaction()
    return _model("payments.Payment").objects.select_for_update(of=("self",)).select_related("order").get(pk=payment_id)


def lock_payments(*, order_id: int, **filters) -> list:
    """An order's payments (optionally filtered), in pk order; the caller locked the order first."""
    return _lock_many("payments.Payment", order_id=order_id, **filters)


def lock_payments_of(order_ids: Iterable[int], **filters) -> list:
    """Several orders' payments (optionally filtered) in pk order, one query; the caller locked the orders."""
    return _lock_many("payments.Payment", order_id__in=list(order_ids), **filters)


def lock_cases(case_ids: Iterable[int]) -> dict:
    """Several after-sale cases by pk, in pk order, one query; the caller locked their orders first."""
    return {case.pk: case for case in _lock_many("refunds.Case", pk__in=list(case_ids))}


def lock_refund(refund_id: int):
    """One refund; the caller locked its order and payment first."""
    _require_transaction()
    return _model("payments.Refund").objects.select_for_update(of=("self",)).select_related("order").get(pk=refund_id)


def lock_refunds(*, order_id: int, **filters) -> list:
    return _lock_many("payments.Refund", order_id=order_id, **filters)


def lock_paypal_tracker(tracker_id: int):
    """One PayPal tracker obligation (SHIP-NOTICES); the worker holds only this row while recording PayPal's answer."""
    _require_transaction()
    return _model("payments.PayPalTracker").objects.select_for_update(of=("self",)).get(pk=tracker_id)


def lock_products(product_ids: Iterable[int]) -> dict:
    """Products (stock) by pk, locked in pk order; after the order in the lock order."""
    return {p.pk: p for p in _lock_many("shop.Product", pk__in=list(product_ids))}


def lock_discounts(discount_ids: Iterable[int]) -> dict:
    """Discounts by pk, locked in pk order (PAY-DISCOUNTS usage limits); after the cart and the order."""
    return {d.pk: d for d in _lock_many("orders.Discount", pk__in=list(discount_ids))}


def lock_bonus_account(user_id: int):
    """A customer's bonus account (PAY-DISCOUNTS), created if new; after the order, payment and refund."""
    _require_transaction()
    Account = _model("orders.BonusAccount")
    Account.objects.get_or_create(user_id=user_id)
    return Account.objects.select_for_update(of=("self",)).get(user_id=user_id)


def lock_webhook_event(event_id: str, *, defaults: dict):
    """PayPal's event row, created if new (first in the lock order). Returns (row, created).

    Two deliveries of one event at once: the second waits on the first's lock (or its insert) and
    then finds the row. Must run in a transaction (``IntegrityError`` rolls back only a savepoint).
    """
    _require_transaction()
    objects = _model("payments.WebhookEvent").objects.select_for_update(of=("self",))
    try:
        with transaction.atomic():
            return objects.get_or_create(event_id=event_id, defaults=defaults)
    except IntegrityError:  # another delivery inserted it first
        return objects.get(event_id=event_id), False


def lock_cart(*, pk: int | None = None, user=None, anonymous: bool = False):
    """A cart by pk (``anonymous``: only one not tied to a user yet), or the user's newest; None if none."""
    _require_transaction()
    carts = _model("shop.Cart").objects.select_for_update(of=("self",))
    if pk is not None:
        return carts.filter(pk=pk, **({"user__isnull": True} if anonymous else {})).first()
    return carts.filter(user=user).order_by("-updated_at", "-pk").first()


def lock_cart_line(*, cart, product):
    """The cart's line for a product (after its cart in the lock order); None if the cart has none."""
    _require_transaction()
    return _model("shop.CartLine").objects.select_for_update(of=("self",)).filter(cart=cart, product=product).first()


def lock_standing(email: str):
    """A customer's pay-on-delivery standing (PAY-COD-RESTRICT), created if new."""
    _require_transaction()
    Standing = _model("orders.CustomerStanding")
    Standing.objects.get_or_create(email=email)
    return Standing.objects.select_for_update(of=("self",)).get(email=email)


def lock_email(email_id: int):
    """One outbox row (last in the lock order); None if it is gone."""
    _require_transaction()
    return _model("shop.Email").objects.select_for_update(of=("self",)).filter(pk=email_id).first()


def lock_partner_notice(notice_id: int):
    """One fulfilment partner notice (SHIP-SUBCONTRACTOR; last in the lock order); None if it is gone.

    ``notice.partner`` and ``notice.order`` are loaded, not locked.
    """
    _require_transaction()
    return (
        _model("shipping.PartnerNotice")
        .objects.select_for_update(of=("self",))
        .select_related("partner", "order")
        .filter(pk=notice_id)
        .first()
    )
