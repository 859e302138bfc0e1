"""The one registry through which a lower app starts work in a higher one.

``shop`` and ``orders`` never import ``payments``/``shipping``/``refunds``. When an order event
must reach a higher app (an order was paid, so fulfilment must hear of it; an order was cancelled,
so paid money must go back), the lower app calls ``hooks.run("order_cancelled", order_id)`` and
the higher app registers a receiver in its ``AppConfig.ready()``::

    hooks.register("order_cancelled", refunds.services.cancelled_order_refund)

Known hook names are listed in ``HOOKS`` so a typo fails loudly. Receivers take ids, never model
instances, and run **inside the caller's transaction**: what they owe (a refund to send, a partner
to notify) is a row written in that transaction, so it commits or rolls back with the change that
created it and survives a crash right after the commit. Only the outside call waits for commit
(``shop.obligations``), and a periodic sweep finds any row still pending.
"""

from collections import defaultdict
from collections.abc import Callable

HOOKS = {
    # order_id: a confirmed order needs its payment started (gateway chooses by method)
    "order_confirmed",
    # order_id: the order became paid (payment confirmed)
    "order_paid",
    # order_id: paid (or confirmed, paid on delivery) and past every hold — fulfilment writes its
    # partner notice (SHIP-SUBCONTRACTOR); runs once per order
    "order_ready",
    # order_id, kind= (a refunds.CaseKind value: staff_cancel, fraud_cancel, price_error, withdrawal):
    # staff, the customer or the system cancelled the order — paid money goes back (ORD-REFUSE)
    "order_cancelled",
    # order_id, amount (Decimal), optional key=, reason= and kind= (a refunds.CaseKind value): part of a
    # paid order's value must go back (ORD-PRICE-ERROR, SHIP-STOCKOUT, DLV-INSPECT, DLV-ACCEPT-14D);
    # the key makes a second run refund nothing
    "order_refund_due",
    # order_id, missing ({line_id: units}): the (locked) order is short and its stock-decision hold is
    # open — fulfilment records the shortage and e-mails the customer their choices (SHIP-STOCKOUT)
    "order_stock_short",
    # keyword arguments of payments.services.payment_record_at_door: the courier took the money at a
    # handover (DLV-HANDOVER, PAY-CARD-AT-DOOR-ID); shipping calls it, payments receives it
    "order_paid_at_door",
    # order_id: what the customer owes changed (a fee, a cancelled part) — payment status recomputed
    "order_amount_changed",
    # order_id, shipment_id=, carrier=, tracking_number=, shipped_on= (date), items= [{sku, name,
    # quantity}]: a parcel with a tracking number left — payments owes PayPal a tracker (SHIP-NOTICES)
    "shipment_tracked",
}

_receivers: dict[str, list[Callable]] = defaultdict(list)
#: A receiver's form for many ids at once (``run_many``), by the receiver it stands for.
_many: dict[Callable, Callable] = {}
#: A receiver's form for many calls with their own arguments (``run_each``), by the receiver it stands for.
_each: dict[Callable, Callable] = {}


def register(name: str, receiver: Callable, *, many: Callable | None = None, each: Callable | None = None) -> None:
    """``many``: the same receiver for a list of ids (``many(ids, **kwargs)``), used by ``run_many``;
    ``each``: the same receiver for a list of calls (``each([(args, kwargs), …])``), used by ``run_each``."""
    if name not in HOOKS:
        raise KeyError(f"Unknown hook {name!r}; add it to shop.hooks.HOOKS")
    if receiver not in _receivers[name]:
        _receivers[name].append(receiver)
    if many is not None:
        _many[receiver] = many
    if each is not None:
        _each[receiver] = each


def run(name: str, *args, **kwargs) -> None:
    """Call every receiver now, in the caller's transaction (an exception rolls the change back)."""
    if name not in HOOKS:
        raise KeyError(f"Unknown hook {name!r}")
    for receiver in list(_receivers[name]):
        receiver(*args, **kwargs)


def run_many(name: str, ids: list, **kwargs) -> None:
    """``run(name, id, **kwargs)`` for every id in ``ids`` (a periodic sweep's batch, issue #14): a
    receiver registered with a ``many`` form is called once with the list, any other once per id."""
    if name not in HOOKS:
        raise KeyError(f"Unknown hook {name!r}")
    if not ids:
        return
    for receiver in list(_receivers[name]):
        many = _many.get(receiver)
        if many is not None:
            many(list(ids), **kwargs)
        else:
            for one in ids:
                receiver(one, **kwargs)


def run_each(name: str, calls: list[tuple[tuple, dict]]) -> None:
    """``run(name, *args, **kwargs)`` for every ``(args, kwargs)`` in ``calls`` (a sweep's batch whose
    calls differ by more than the id: an amount, a key): a receiver registered with an ``each`` form
    is called once with the list, any other once per call."""
    if name not in HOOKS:
        raise KeyError(f"Unknown hook {name!r}")
    if not calls:
        return
    for receiver in list(_receivers[name]):
        each = _each.get(receiver)
        if each is not None:
            each(list(calls))
        else:
            for args, kwargs in calls:
                receiver(*args, **kwargs)
