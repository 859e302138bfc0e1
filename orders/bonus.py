"""PAY-DISCOUNTS bonus programme: the ledger of points (earned, spent, returned, taken back).

Every change is a ``BonusEntry`` row with its order, written here only, with the customer's
``BonusAccount`` locked (``shop.locks.lock_bonus_account``: after the order, its payments and
refunds) and its ``balance`` moved by the same number, so the balance is always the ledger's sum and
a CHECK constraint keeps it from going below zero. 1 point = 1 unit of the prices' currency.

- earned when the order is completed (``Policy.bonus_earn_percent`` of the goods paid, whole points);
- spent at confirmation (``orders.checkout``), at most ``Policy.bonus_spend_max_percent`` of the goods;
- returned when the order is cancelled;
- taken back, in proportion, when a refund of the order is sent (``payments`` calls
  ``bonus_take_back_for_refunds`` where a refund becomes SENT). Points already spent elsewhere cannot
  be taken below zero: the take-back stops at the balance and says so in its note.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from django.db.models import Sum

from shop.locks import lock_bonus_account
from shop.models import Policy

from . import events
from .models import BonusAccount, BonusEntry, Order

K = BonusEntry.Kind


# --- reads --------------------------------------------------------------------------------------
def bonus_balance(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return BonusAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def bonus_history(user, *, limit: int = 100) -> list[BonusEntry]:
    return list(BonusEntry.objects.filter(account__user=user).select_related("order")[:limit])


def _points_of(order: Order, kind: str) -> int:
    return BonusEntry.objects.filter(order=order, kind=kind).aggregate(s=Sum("points"))["s"] or 0


# --- writes (the caller holds the order's lock and runs inside its transaction) ------------------
def _entry(*, account: BonusAccount, order: Order, kind: str, points: int, note: str = "") -> BonusEntry | None:
    if points == 0:
        return None
    account.balance += points
    account.save(update_fields=["balance"])  # CHECK balance >= 0 refuses a negative one
    entry = BonusEntry.objects.create(account=account, order=order, kind=kind, points=points, note=note[:200])
    events.bonus_points(order=order, kind=kind, points=points, balance=account.balance, note=note)
    return entry


def bonus_spend(*, order: Order, account: BonusAccount, points: int) -> BonusEntry | None:
    """Points spent on ``order`` at confirmation; ``account`` was locked and checked by checkout."""
    return _entry(account=account, order=order, kind=K.SPENT, points=-points)


def _goods_paid(order: Order) -> Decimal:
    """What the customer pays for the goods they keep: each line's net value of its kept units."""
    total = Decimal("0")
    for line in order.lines.all():
        kept = line.quantity - line.quantity_cancelled - line.quantity_refused
        if kept > 0:
            total += line.net_value(kept)
    return total


def bonus_earn(*, order: Order) -> BonusEntry | None:
    """The order was completed: its customer (registered) earns the Policy share as points, once."""
    if order.user_id is None or BonusEntry.objects.filter(order=order, kind=K.EARNED).exists():
        return None
    rate = Decimal(Policy.load().bonus_earn_percent)
    points = int((_goods_paid(order) * rate / 100).to_integral_value(rounding=ROUND_DOWN))
    if points <= 0:
        return None
    account = lock_bonus_account(order.user_id)
    return _entry(
        account=account, order=order, kind=K.EARNED, points=points, note=f"{rate.normalize():f} % of the goods"
    )


def bonus_return_spent(*, order: Order) -> BonusEntry | None:
    """The order was cancelled: the points spent on it come back, once."""
    return bonus_return_spent_many([order])[0]


def bonus_return_spent_many(orders: list[Order]) -> list[BonusEntry | None]:
    """``bonus_return_spent`` for several cancelled orders: one read of their entries (issue #14); only
    an order with points to return locks its customer's account and writes."""
    spent: dict[int, int] = defaultdict(int)
    returned: set[int] = set()
    for order_id, kind, points in BonusEntry.objects.filter(
        order__in=[o for o in orders if o.user_id is not None], kind__in=[K.SPENT, K.RETURNED]
    ).values_list("order_id", "kind", "points"):
        if kind == K.SPENT:
            spent[order_id] -= points
        else:
            returned.add(order_id)
    entries = []
    for order in orders:
        points = spent.get(order.pk, 0)
        if points <= 0 or order.user_id is None or order.pk in returned:
            entries.append(None)
            continue
        account = lock_bonus_account(order.user_id)
        entries.append(_entry(account=account, order=order, kind=K.RETURNED, points=points, note="Order cancelled."))
    return entries


def bonus_take_back_for_refunds(*, order: Order, refunded: Decimal) -> BonusEntry | None:
    """A refund of ``order`` was sent; ``refunded`` is everything sent back on it so far.

    Points earned are taken back in the share of the order's value refunded (all of them for a full
    refund), counting what earlier refunds took already: running it again takes nothing more.
    """
    earned = _points_of(order, K.EARNED)
    if earned <= 0 or order.user_id is None:
        return None
    value = order.total.amount
    share = min(Decimal("1"), Decimal(refunded) / value) if value > 0 else Decimal("1")
    owed = int((earned * share).to_integral_value(rounding=ROUND_DOWN)) if share < 1 else earned
    already = -_points_of(order, K.TAKEN_BACK)
    due = owed - already
    if due <= 0:
        return None
    account = lock_bonus_account(order.user_id)
    take = min(due, account.balance)
    note = f"{Decimal(refunded):f} of {value:f} refunded."
    if take < due:
        note += f" {due - take} points were spent already and cannot be taken back."
    if take <= 0:
        return None
    return _entry(account=account, order=order, kind=K.TAKEN_BACK, points=-take, note=note)
