"""Late and lost parcels (DLV-LATE, DLV-LOST) and short deliveries without an act (REF-SHORT-DELIVERY).

- DLV-LATE: once a parcel's expected window (``Shipment.expected_to``) has passed and it is still on
  its way, the customer may report it from the order page (``parcel_report_late``): an investigation
  opens at once (a ``refunds.Case`` of kind LATE_PARCEL for the parcel), staff are e-mailed, the
  customer too. ``parcels_investigate_late`` (periodic) opens one itself on ``Shipment.investigate_on``,
  ``Policy.late_parcel_margin_days`` business days after the window. Staff close it with a re-shipment
  at no charge or a full refund (``parcel_claim_settle``).
- DLV-LOST: staff record the carrier's confirmation of the loss (``parcel_confirm_lost``); a case of
  kind LOST_PARCEL opens and the customer chooses (signed e-mail link, order page) or staff record a
  replacement or a refund of the goods and the delivery (``parcel_claim_settle``). Risk passes to the
  customer only at a signed handover: a handed-over parcel cannot be declared lost.
- Re-shipping (``parcel_reship``): the parcel is given up as lost, its units go back to "to ship" and
  are taken from stock again, and the order goes back to processing: the warehouse packs and ships
  it through the usual work queue; the next parcel of the order points back (``reshipment_of``).

Every service locks the order, its lines, then the parcel (``shop.locks``), is idempotent (a stored
marker or the case's key), moves the parcel through ``shipping.lifecycle`` and e-mails the customer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders import events, lifecycle
from orders.access import order_link_for_email
from orders.models import Order
from orders.notifications import order_email_queue
from refunds import services as case_services
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from shop.calendar import BusinessCalendar
from shop.emails import Message, emails_queue
from shop.errors import ServiceError
from shop.locks import (
    lock_case,
    lock_order,
    lock_order_lines,
    lock_orders,
    lock_products,
    lock_shipment,
    lock_shipments,
)
from shop.models import Policy, policy_memoized
from shop.money import money

from ..lifecycle import SHIPMENT_LIFECYCLE, shipment_move
from ..models import ActOfDiscrepancy, Shipment, ShipmentLine, ShipmentStatus
from .shipments import investigate_on_for

__all__ = [
    "ParcelClaimError",
    "investigate_on_for",
    "is_late",
    "parcel_claim_settle",
    "parcel_confirm_lost",
    "parcel_report_late",
    "parcel_reship",
    "parcels_investigate_late",
    "short_delivery_decline_without_act",
    "short_delivery_replace",
]

S = ShipmentStatus
#: DLV-LOST: the customer's (or staff's) choice for a lost parcel; DLV-LATE: staff's two ways to close.
LOST_REMEDIES = (CaseRemedy.REPLACEMENT, CaseRemedy.REFUND)
LATE_REMEDIES = (CaseRemedy.RESHIP, CaseRemedy.REFUND)
NO_ACT_REASON = "No Act of Discrepancy was signed at the handover, so the missing items cannot be confirmed."


class ParcelClaimErrorCode(models.TextChoices):
    NOT_LATE = "not_late", "The parcel's expected window has not passed"
    NOT_ALLOWED = "not_allowed", "Not allowed in the parcel's present state"
    RISK_PASSED = "risk_passed", "Handed over: the risk passed to the customer"
    REFERENCE_MISSING = "reference_missing", "Carrier's confirmation missing"
    OUT_OF_STOCK = "out_of_stock", "Not enough stock to send again"
    WRONG_CASE = "wrong_case", "Not a late or lost parcel case"
    BAD_REMEDY = "bad_remedy", "Remedy not offered for this case"
    HAS_ACT = "has_act", "An act exists"


class ParcelClaimError(ServiceError):
    """A late or lost parcel cannot be handled as asked; nothing changed. ``field``: the form field."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field


# --- shared steps ---------------------------------------------------------------------------
def _locked(shipment_id: int, *, with_lines: bool = False, case_id: int | None = None) -> tuple[Order, dict, Shipment]:
    """Order, (a case,) (its lines,) then the parcel: the lock order in shop/locks.py. Inside a transaction."""
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ParcelClaimError(
            _("There is no parcel %(parcel)s.") % {"parcel": shipment_id}, code=ParcelClaimErrorCode.NOT_ALLOWED
        )
    order = lock_order(order_id)
    if case_id is not None:
        lock_case(case_id)
    lines = lock_order_lines(order_id) if with_lines else {}
    shipment = lock_shipment(shipment_id, order_id=order.pk)
    shipment.order = order
    return order, lines, shipment


def _parcel_units(shipment: Shipment) -> dict[int, int]:
    return {pl.order_line_id: pl.quantity for pl in shipment.lines.all()}


def _parcel_value(shipment: Shipment, order: Order, rows: list[ShipmentLine] | None = None):
    """DLV-LATE / DLV-LOST: what a full refund pays: the parcel's goods and the order's delivery.
    ``rows``: the parcel's lines with their order lines, read already."""
    rows = shipment.lines.select_related("order_line") if rows is None else rows
    goods = sum((row.order_line.unit_price.amount * row.quantity for row in rows), Decimal("0"))
    return money(goods + order.delivery_cost.amount, order.total.currency)


def _email(order: Order, *, kind: str, template: str, key: str, **extra) -> None:
    order_email_queue(order=order, kind=kind, template=template, key=key, **extra)


# --- DLV-LATE: the expected window --------------------------------------------------------------
def shop_today() -> dt.date:
    """Today in the shop's time zone (the Policy's; closures do not matter for a date)."""
    return timezone.now().astimezone(ZoneInfo(Policy.load().time_zone)).date()


def is_late(shipment: Shipment, *, today: dt.date | None = None) -> bool:
    """DLV-LATE: still on its way and its expected window has passed (the day after ``expected_to``)."""
    if shipment.status != S.SHIPPED or shipment.expected_to is None:
        return False
    return (today or shop_today()) > shipment.expected_to


def parcel_report_late(*, shipment_id: int, actor=None, by_shop: bool = False, statement: str = "") -> Case:
    """DLV-LATE: open the investigation of a late parcel (once: the case's key is the parcel).

    Reported by the customer from the order page, by staff, or by the shop itself (``by_shop``: the
    periodic task). The staff address (``Policy.staff_email``) is alerted and the customer e-mailed.
    """
    with transaction.atomic():
        order, _lines, shipment = _locked(shipment_id)
        existing = Case.objects.filter(key=_late_key(shipment.pk)).first()
        if existing is not None:
            return existing
        if not is_late(shipment):
            window = formats.date_format(shipment.expected_to, "DATE_FORMAT") if shipment.expected_to else "—"
            raise ParcelClaimError(
                _(
                    "Parcel %(parcel)s is “%(status)s”, expected by %(date)s: it can be reported as not arrived "
                    "once that day has passed and while it is on its way."
                )
                % {"parcel": shipment.pk, "status": shipment.get_status_display(), "date": window},
                code=ParcelClaimErrorCode.NOT_LATE,
            )
        return _late_cases_open([(order, shipment)], actor=actor, by_shop=by_shop, statement=statement)[0]


def _late_key(shipment_id: int) -> str:
    return f"late-parcel:{shipment_id}"


def _late_cases_open(pairs: list[tuple[Order, Shipment]], *, actor=None, by_shop: bool, statement: str = ""):
    """DLV-LATE: the investigation cases of late parcels (their orders and parcels locked, each checked),
    the staff alerts and the customers' e-mails (``cases_open``), with a fixed number of queries."""
    rows: dict[int, list[ShipmentLine]] = defaultdict(list)
    for row in ShipmentLine.objects.filter(shipment__in=[s for _o, s in pairs]).select_related("order_line"):
        rows[row.shipment_id].append(row)
    who = "The shop noticed" if by_shop else "The customer reported"
    cases = case_services.cases_open(
        [
            case_services.CaseOpening(
                order_id=order.pk,
                kind=CaseKind.LATE_PARCEL,
                lines={row.order_line_id: row.quantity for row in rows[shipment.pk]},
                shipment_id=shipment.pk,
                statement=statement
                or f"{who} that parcel {shipment.pk} has not arrived (due by {shipment.expected_to}).",
                actor=actor,
                key=_late_key(shipment.pk),
                amount=_parcel_value(shipment, order, rows[shipment.pk]),
            )
            for order, shipment in pairs
        ]
    )
    staff = Policy.load().staff_email
    emails_queue(
        [
            Message(
                to=staff,
                template="staff_late_parcel",
                key=f"staff-late-parcel:{shipment.pk}",
                language=settings.LANGUAGE_CODE,  # staff read the shop's language, whatever the task runs in
                context={"order": order, "shipment": shipment, "case": case, "by_shop": by_shop},
            )
            for (order, shipment), case in zip(pairs, cases, strict=True)
        ]
    )
    return cases  # the customers are e-mailed by cases_open (templates/emails/case_update.*)


#: Late parcels investigated per transaction by the periodic task (issue #14: bounded locks).
CHUNK = 500


def parcels_investigate_late(*, today: dt.date | None = None, batch: int = 1000) -> int:
    """DLV-LATE (periodic): open an investigation for every parcel still on its way on its
    ``investigate_on`` day or later, and not yet investigated. One indexed query for at most ``batch``
    parcels; then, per chunk of ``CHUNK``, one transaction that locks the orders and parcels (one query
    each), re-checks each parcel (still late, no case yet: the case's key is the parcel) and opens the
    cases together, so running twice, or late, opens one case per parcel and the queries do not grow
    with the parcels (issue #14). Returns how many were opened."""
    with policy_memoized():
        today = today or shop_today()
        investigated = Case.objects.filter(shipment_id=OuterRef("pk"), kind=CaseKind.LATE_PARCEL)
        due = list(
            Shipment.objects.filter(status=S.SHIPPED, investigate_on__lte=today)
            .filter(~Exists(investigated))
            .order_by("investigate_on", "pk")
            .values_list("pk", "order_id")[:batch]
        )
        opened = 0
        for start in range(0, len(due), CHUNK):
            with transaction.atomic():
                opened += len(_investigate_many(due[start : start + CHUNK]))
    return opened


def _investigate_many(due: list[tuple[int, int]]) -> list[Case]:
    orders = lock_orders({order_id for _pk, order_id in due})
    shipments = lock_shipments(pk for pk, _order_id in due)
    taken = set(Case.objects.filter(key__in=[_late_key(pk) for pk, _o in due]).values_list("key", flat=True))
    now_today = shop_today()
    pairs = []
    for pk, _order_id in due:  # in the due order: the oldest investigation day first
        shipment = shipments.get(pk)
        # Moved on since the query (handed over, lost) or investigated already: nothing to do.
        if shipment is None or shipment.order_id not in orders or _late_key(pk) in taken:
            continue
        if not is_late(shipment, today=now_today):
            continue
        shipment.order = orders[shipment.order_id]
        pairs.append((shipment.order, shipment))
    return _late_cases_open(pairs, by_shop=True) if pairs else []


# --- DLV-LOST: the carrier's confirmation -------------------------------------------------------
def parcel_confirm_lost(*, shipment_id: int, reference: str, actor) -> Case:
    """DLV-LOST: the carrier confirmed the parcel lost (``reference``: their confirmation, e.g. a claim number).

    Risk passes to the customer only at a signed handover: a parcel handed over cannot be lost in the
    shop's care. The parcel is "lost", a LOST_PARCEL case opens, an open late-parcel investigation of
    it is resolved into it, and the customer is e-mailed a signed link to choose a replacement or a refund.
    """
    reference = (reference or "").strip()
    if not reference:
        raise ParcelClaimError(
            _("Enter the carrier's confirmation (claim or letter number)."),
            code=ParcelClaimErrorCode.REFERENCE_MISSING,
            field="reference",
        )
    with transaction.atomic():
        late_id = Case.objects.filter(key=f"late-parcel:{shipment_id}").values_list("pk", flat=True).first()
        order, _lines, shipment = _locked(shipment_id, case_id=late_id)
        key = f"lost-parcel:{shipment.pk}"
        existing = Case.objects.filter(key=key).first()
        if existing is not None:
            return existing
        if shipment.status == S.DELIVERED:
            # DLV-LOST: the recipient signed for it; what happens after is the customer's risk.
            raise ParcelClaimError(
                _("Parcel %(parcel)s was handed over against a signature: the risk passed to the customer then.")
                % {"parcel": shipment.pk},
                code=ParcelClaimErrorCode.RISK_PASSED,
            )
        if shipment.status != S.LOST and not SHIPMENT_LIFECYCLE.can_move(shipment, S.LOST):
            raise ParcelClaimError(
                _("Parcel %(parcel)s is “%(status)s”: it cannot be recorded as lost.")
                % {"parcel": shipment.pk, "status": shipment.get_status_display()},
                code=ParcelClaimErrorCode.NOT_ALLOWED,
            )
        shipment.lost_at = timezone.now()
        shipment.loss_reference = reference[:200]
        if shipment.status == S.LOST:  # given up as late and re-shipped already: the carrier now confirms
            shipment.save(update_fields=["lost_at", "loss_reference"])
        else:
            shipment_move(shipment, S.LOST, fields=["lost_at", "loss_reference"])
        events.parcel_lost(order=order, shipment_id=shipment.pk, reference=reference, actor=actor)
        case = case_services.case_open(
            order_id=order.pk,
            kind=CaseKind.LOST_PARCEL,
            lines=_parcel_units(shipment),
            shipment_id=shipment.pk,
            statement=f"The carrier confirmed parcel {shipment.pk} lost ({reference}).",
            actor=actor,
            key=key,
            amount=_parcel_value(shipment, order),
        )
        if late_id is not None and Case.objects.filter(pk=late_id, status__in=_OPEN).exists():
            case_services.case_resolve(
                case_id=late_id,
                actor=actor,
                remedy=CaseRemedy.REFUND,
                note=f"The carrier confirmed the loss: you choose a replacement or a refund in case {case.pk}.",
            )
        if shipment.reship_requested_at is not None:
            # Already sent again as a late parcel: the customer has their replacement; nothing to choose.
            case_services.case_resolve(case_id=case.pk, actor=actor, remedy=CaseRemedy.REPLACEMENT)
        _email(
            order,
            kind="parcel lost",
            template="parcel_lost",
            key=f"parcel-lost:{shipment.pk}",
            shipment=shipment,
            already_resent=shipment.reship_requested_at is not None,
            choice_url=order_link_for_email(order, view="shipping:parcel_lost_choice"),
        )
        return case


# --- Re-shipping at no charge (DLV-LATE, DLV-LOST replacement) -----------------------------------
def parcel_reship(*, shipment_id: int, actor, reason: str) -> Shipment:
    """Send the goods of a late or lost parcel again at no charge.

    The parcel is given up ("lost"); its units are taken from stock again and go back to "to ship"
    (``quantity_shipped``), and the order goes back to processing with a new ship-by, so it appears in
    the work queue, is packed and shipped as usual; that next parcel is its re-shipment. Idempotent:
    a parcel is re-shipped once (``reship_requested_at``). Refused when the stock is short.
    """
    with transaction.atomic():
        order, lines, shipment = _locked(shipment_id, with_lines=True)
        if shipment.reship_requested_at is not None:
            return shipment
        if shipment.status != S.LOST and not SHIPMENT_LIFECYCLE.can_move(shipment, S.LOST):
            raise ParcelClaimError(
                _("Parcel %(parcel)s is “%(status)s”: only a parcel on its way or lost can be sent again.")
                % {"parcel": shipment.pk, "status": shipment.get_status_display()},
                code=ParcelClaimErrorCode.NOT_ALLOWED,
            )
        if order.status not in (Order.Status.SHIPPED, Order.Status.PARTIALLY_SHIPPED):
            raise ParcelClaimError(
                _("Order %(number)s is “%(status)s”: it cannot go back to the warehouse.")
                % {"number": order.number, "status": order.get_status_display()},
                code=ParcelClaimErrorCode.NOT_ALLOWED,
            )
        units = _parcel_units(shipment)
        _take_stock_again(order, lines, units)
        for line_id, quantity in units.items():
            line = lines[line_id]
            line.quantity_shipped -= quantity  # the units are owed again: "to ship" on the packing slip
            line.save(update_fields=["quantity_shipped"])
        shipment.reship_requested_at = timezone.now()
        if shipment.status == S.LOST:
            shipment.save(update_fields=["reship_requested_at"])
        else:
            shipment_move(shipment, S.LOST, fields=["reship_requested_at"])
        if order.status == Order.Status.SHIPPED:
            lifecycle.move(order, Order.Status.PROCESSING, actor=actor, note=f"Parcel {shipment.pk} is sent again.")
        calendar = BusinessCalendar.current()
        order.ship_by = calendar.add_business_days(timezone.now(), Policy.load().ship_within_days)
        order.save(update_fields=["ship_by"])
        events.parcel_reship(order=order, shipment_id=shipment.pk, reason=reason, actor=actor)
        return shipment  # the customer hears it from the case (resolved) and gets the new shipping notice


def _take_stock_again(order: Order, lines: dict, units: dict[int, int]) -> None:
    """The replacement units leave the shelf now (products locked after the order, in pk order)."""
    needed: dict[int, int] = {}
    for line_id, quantity in units.items():
        product_id = lines[line_id].product_id
        if product_id is not None:
            needed[product_id] = needed.get(product_id, 0) + quantity
    products = lock_products(needed)
    for product_id, quantity in sorted(needed.items()):
        product = products.get(product_id)
        if product is None or product.stock < quantity:
            name = product.name if product is not None else "an item"
            raise ParcelClaimError(
                _(
                    "Not enough %(product)s in stock to send again (%(count)s needed); "
                    "refund instead, or wait for stock."
                )
                % {"product": name, "count": quantity},
                code=ParcelClaimErrorCode.OUT_OF_STOCK,
            )
    for product_id, quantity in sorted(needed.items()):
        products[product_id].stock -= quantity
        products[product_id].save(update_fields=["stock"])


# --- Closing a late or lost parcel's case (DLV-LATE, DLV-LOST) ----------------------------------
_OPEN = (CaseStatus.REQUESTED, CaseStatus.ACCEPTED)


def parcel_claim_settle(*, case_id: int, remedy: str, actor=None, by_customer: bool = False) -> Case:
    """Close a LATE_PARCEL (staff: re-ship or refund) or LOST_PARCEL (customer or staff: replacement or
    refund) case. A re-shipment or replacement sends the goods again at no charge (``parcel_reship``);
    a refund returns the parcel's goods and the delivery, never more than was paid (``case_refund``).
    A case already closed is returned as it is (a second click changes nothing)."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.kind not in (CaseKind.LATE_PARCEL, CaseKind.LOST_PARCEL) or case.shipment_id is None:
        raise ParcelClaimError(_("Not a late or lost parcel's case."), code=ParcelClaimErrorCode.WRONG_CASE)
    allowed = LATE_REMEDIES if case.kind == CaseKind.LATE_PARCEL else LOST_REMEDIES
    if by_customer and case.kind != CaseKind.LOST_PARCEL:
        raise ParcelClaimError(_("Staff close a late parcel's case."), code=ParcelClaimErrorCode.WRONG_CASE)
    if remedy not in allowed:
        raise ParcelClaimError(
            _("Choose %(remedies)s.") % {"remedies": _(" or ").join(str(CaseRemedy(r).label).lower() for r in allowed)},
            code=ParcelClaimErrorCode.BAD_REMEDY,
            field="remedy",
        )
    with transaction.atomic():
        order, lines, shipment = _locked(case.shipment_id, with_lines=True, case_id=case.pk)
        case = Case.objects.get(pk=case_id)
        if case.status not in _OPEN:
            return case
        who = "your choice" if by_customer else "our decision"
        if remedy == CaseRemedy.REFUND:
            _give_up_lost_goods(order, lines, shipment, actor=actor)
            case_services.case_refund(case_id=case.pk, actor=actor)  # the case's value: goods and delivery
            note = f"The goods and the delivery are refunded ({who})."
        else:
            parcel_reship(shipment_id=shipment.pk, actor=actor, reason=f"{CaseRemedy(remedy).label}, {who}")
            note = (
                f"We pack and send the goods again at no charge ({who}); the shipping notice with the new "
                "tracking number follows."
            )
        return case_services.case_resolve(case_id=case.pk, actor=actor, remedy=remedy, note=note)


def _give_up_lost_goods(order: Order, lines: dict, shipment: Shipment, *, actor) -> None:
    """DLV-LOST / DLV-LATE refund: the parcel is given up, its units will never be delivered (counted
    cancelled), and the order settles on what is left."""
    if shipment.status != S.LOST:
        shipment_move(shipment, S.LOST)
    for line_id, quantity in _parcel_units(shipment).items():
        line = lines[line_id]
        line.quantity_shipped -= quantity
        line.quantity_cancelled += quantity
        line.save(update_fields=["quantity_shipped", "quantity_cancelled"])
    _order_settle_after_loss(order, list(lines.values()), actor=actor)


def _order_settle_after_loss(order: Order, lines: list, *, actor) -> None:
    """The order ends once nothing is on its way or left to ship: completed if anything was kept,
    cancelled (through processing: it never reached the customer) if nothing was."""
    if any(line.quantity_open for line in lines):
        return
    if any(line.quantity_delivered + line.quantity_refused < line.quantity_shipped for line in lines):
        return
    if any(line.quantity_delivered for line in lines):
        if lifecycle.can_move(order, Order.Status.COMPLETED):
            lifecycle.move(order, Order.Status.COMPLETED, actor=actor, note="The lost parcel was refunded.")
        return
    if order.status == Order.Status.SHIPPED:
        lifecycle.move(order, Order.Status.PROCESSING, actor=actor, note="The parcel was lost.")
    if lifecycle.can_move(order, Order.Status.CANCELLED):
        lifecycle.move(order, Order.Status.CANCELLED, actor=actor, note="The parcel was lost and refunded in full.")


# --- REF-SHORT-DELIVERY: a claim with no act ------------------------------------------------------
def short_delivery_has_act(case: Case) -> bool:
    acts = ActOfDiscrepancy.objects.filter(order_id=case.order_id)
    if case.shipment_id is not None:
        acts = acts.filter(shipment_id=case.shipment_id)
    return acts.exists()


def short_delivery_decline_without_act(*, case_id: int, actor) -> Case:
    """REF-SHORT-DELIVERY: "a claim with no act may be declined": staff decline a short-delivery case
    for which no Act of Discrepancy was drawn up; the customer is e-mailed the reason (``case_decline``)."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.kind != CaseKind.SHORT_DELIVERY:
        raise ParcelClaimError(_("Not a short-delivery case."), code=ParcelClaimErrorCode.WRONG_CASE)
    if short_delivery_has_act(case):
        raise ParcelClaimError(
            _("An Act of Discrepancy exists for this delivery: the claim cannot be declined for lack of one."),
            code=ParcelClaimErrorCode.HAS_ACT,
        )
    return case_services.case_decline(case_id=case.pk, reason=NO_ACT_REASON, actor=actor)


def short_delivery_replace(*, case_id: int, actor) -> Order:
    """REF-SHORT-DELIVERY: the missing goods are sent in a new order at no charge (``case_replacement_order``:
    it goes through the work queue like any order) and the case is resolved. A second call returns the
    same order."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.kind != CaseKind.SHORT_DELIVERY:
        raise ParcelClaimError(_("Not a short-delivery case."), code=ParcelClaimErrorCode.WRONG_CASE)
    with transaction.atomic():
        replacement = case_services.case_replacement_order(case_id=case.pk, actor=actor)
        note = f"The missing goods are sent in order {replacement.number}, at no charge."
        case_services.case_resolve(case_id=case.pk, actor=actor, remedy=CaseRemedy.REPLACEMENT, note=note)
        return replacement
