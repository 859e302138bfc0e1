"""Delivery attempts, handover and the collection window of a parcel.

Rules: DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK, DLV-FAILED, DLV-ACCEPT-14D, SHIP-ADDRESS-CHANGE, and
the evidence PAY-COD-RESTRICT reads. Staff (admin) and the courier partner (signed callback,
``shipping.views``) record attempts through the same three services:

- ``delivery_record_handover``: who received the parcel, items refused at inspection (their value is
  no longer owed: an ``OrderAdjustment`` of kind REFUSED_AT_DOOR; refunded the way it came when the
  order was prepaid), the payment taken at the door for
  cash/card-on-delivery orders (``payments.services.payment_record_at_door``, through the
  ``order_paid_at_door`` hook: shipping does not import its peer app), and the order settles
  (completed, or refused when nothing was kept);
- ``delivery_record_failure``: the cause, which says whether it was beyond the shop's control;
- ``delivery_record_awaiting_collection``: the parcel waits at a pick-up point until ``collect_by``.

``delivery_arrange_redelivery`` charges the Policy's fee for a re-delivery or an address change
after dispatch; ``shipments_remind_collection`` and ``shipments_expire_uncollected`` are the two
periodic tasks of the collection window (beat schedule in config/celery.py).

Every service locks the order, then the parcel (``shop.locks``), returns the recorded attempt when a
partner sends the same event again (``key``), moves the parcel through ``shipping.lifecycle`` and
the order through ``orders.lifecycle.move``, writes typed order events, and recomputes the
customer's PAY-COD-RESTRICT standing in the same transaction. A refused request raises
``DeliveryError`` (with a ``code`` and the form ``field`` it concerns) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from orders import events, lifecycle
from orders.models import AdjustmentKind, Order, OrderEvent
from orders.notifications import OrderMail, order_emails_queue
from orders.pricing import order_amount_due
from orders.services import order_adjust
from orders.standing import standing_recompute
from shop import hooks
from shop.calendar import BusinessCalendar
from shop.errors import ServiceError
from shop.locks import lock_order, lock_orders, lock_shipment, lock_shipments
from shop.models import PREPAID_METHODS, PaymentMethod, Policy, policy_memoized
from shop.money import money

from ..lifecycle import SHIPMENT_LIFECYCLE, shipment_move
from ..models import (
    BEYOND_SHOP_CONTROL,
    AttemptSource,
    DeliveryAttempt,
    DeliveryOutcome,
    FailureCause,
    IdDocumentType,
    RecipientKind,
    RefusedItem,
    Shipment,
    ShipmentStatus,
)

__all__ = [
    "DeliveryError",
    "DeliveryErrorCode",
    "collect_by_for",
    "delivery_arrange_redelivery",
    "delivery_record_awaiting_collection",
    "delivery_record_failure",
    "delivery_record_handover",
    "shipments_expire_uncollected",
    "shipments_remind_collection",
]

S = ShipmentStatus
COD_METHODS = frozenset({PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER})
#: A clock a few minutes ahead (a courier's handset) is not "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)


class DeliveryErrorCode(models.TextChoices):
    UNKNOWN_PARCEL = "unknown_parcel", "No such parcel"
    NOT_ALLOWED = "not_allowed", "Not allowed in the parcel's present state"
    WHEN_INVALID = "when_invalid", "Moment in the future or before dispatch"
    UNKNOWN_CAUSE = "unknown_cause", "Unknown failure cause"
    RECIPIENT_INVALID = "recipient_invalid", "Recipient kind not allowed"
    RECIPIENT_NAME_MISSING = "recipient_name_missing", "Recipient's name missing"
    UNKNOWN_LINE = "unknown_line", "Line not in the parcel"
    TOO_MANY_REFUSED = "too_many_refused", "More refused than the parcel holds"
    ID_DOCUMENT_NOT_PREPAID = "id_document_not_prepaid", "Identity document on an order paid at the door"
    ID_DOCUMENT_INCOMPLETE = "id_document_incomplete", "Identity document type or number missing"
    ADDRESS_MISSING = "address_missing", "New address missing"
    NO_FAILED_ATTEMPT = "no_failed_attempt", "No failed attempt to deliver again"


class DeliveryError(ServiceError):
    """A delivery attempt cannot be recorded as asked; nothing changed. ``field`` names the form field."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field


# --- shared steps ---------------------------------------------------------------------------
def _locked(shipment_id: int) -> tuple[Order, Shipment]:
    """Order first, then its parcel (the lock order in shop/locks.py). Inside a transaction."""
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise DeliveryError(
            _("There is no parcel %(parcel)s.") % {"parcel": shipment_id}, code=DeliveryErrorCode.UNKNOWN_PARCEL
        )
    order = lock_order(order_id)
    shipment = lock_shipment(shipment_id, order_id=order.pk)
    shipment.order = order
    return order, shipment


def _already_recorded(key: str | None) -> DeliveryAttempt | None:
    """A partner's callback sent twice records one attempt (checked under the order's lock)."""
    return DeliveryAttempt.objects.filter(key=key).first() if key else None


def _check_moment(shipment: Shipment, at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise DeliveryError(
            _("The moment of the attempt is in the future."), code=DeliveryErrorCode.WHEN_INVALID, field="at"
        )
    if at < shipment.shipped_at:
        raise DeliveryError(
            _("The moment of the attempt is before the parcel was shipped."),
            code=DeliveryErrorCode.WHEN_INVALID,
            field="at",
        )
    return at


def _check_move(shipment: Shipment, *targets: str) -> None:
    if not any(SHIPMENT_LIFECYCLE.can_move(shipment, t) for t in targets):
        raise DeliveryError(
            _("Parcel %(parcel)s is “%(status)s”: this outcome cannot be recorded for it.")
            % {"parcel": shipment.pk, "status": shipment.get_status_display()},
            code=DeliveryErrorCode.NOT_ALLOWED,
        )


def _attempt(order: Order, shipment: Shipment, outcome: str, at, *, source, partner, key, actor, **fields):
    return DeliveryAttempt.objects.create(
        shipment=shipment,
        order=order,
        outcome=outcome,
        at=at,
        source=source,
        partner=partner,
        key=key or None,
        recorded_by=actor,
        **fields,
    )


def _order_settle(order: Order, *, actor, note: str = "") -> None:
    """The order ends when every shipped unit was delivered or refused and nothing is left to ship:
    completed if anything was kept, refused if nothing was (DLV-HANDOVER, DLV-ACCEPT-14D)."""
    lines = list(order.lines.all())
    if any(line.quantity_open for line in lines):
        return
    if any(line.quantity_delivered + line.quantity_refused < line.quantity_shipped for line in lines):
        return
    kept = any(line.quantity_delivered for line in lines)
    target = Order.Status.COMPLETED if kept else Order.Status.REFUSED
    if lifecycle.can_move(order, target):
        lifecycle.move(order, target, actor=actor, note=note)


def _parcel_value(shipment: Shipment, quantities: dict[int, int] | None = None) -> Money:
    """Value of the parcel's units (or of ``quantities`` per order line) at the locked prices, after discounts."""
    currency = shipment.order.total.currency
    total = Decimal("0")
    for parcel_line in shipment.lines.select_related("order_line"):
        qty = parcel_line.quantity if quantities is None else quantities.get(parcel_line.order_line_id, 0)
        total += parcel_line.order_line.net_value(qty) if qty else Decimal("0")  # after discounts (PAY-DISCOUNTS)
    return money(total, currency)


def _mail(order: Order, shipment: Shipment, *, kind: str, template: str, key: str, **extra) -> OrderMail:
    collect_by = BusinessCalendar.current().local(shipment.collect_by).date() if shipment.collect_by else None
    return OrderMail(order, kind, template, key, {"shipment": shipment, "collect_by_date": collect_by, **extra})


def _email(order: Order, shipment: Shipment, *, kind: str, template: str, key: str, **extra) -> None:
    order_emails_queue([_mail(order, shipment, kind=kind, template=template, key=key, **extra)])


# --- DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK --------------------------------------------------
def _check_recipient(order: Order, kind: str, name: str) -> str:
    if kind not in RecipientKind.values:
        raise DeliveryError(
            _("Say who received the parcel."), code=DeliveryErrorCode.RECIPIENT_INVALID, field="recipient_kind"
        )
    # DLV-HANDOVER: only a cash order may go to a person who gives the order number (and pays in full).
    if kind == RecipientKind.ORDER_NUMBER_HOLDER and order.payment_method != PaymentMethod.CASH_COURIER:
        raise DeliveryError(
            _("Only a cash order may be handed to a person who gives the order number."),
            code=DeliveryErrorCode.RECIPIENT_INVALID,
            field="recipient_kind",
        )
    name = (name or "").strip()
    if kind == RecipientKind.CUSTOMER:
        return name or order.full_name
    if not name:
        raise DeliveryError(
            _("Enter the recipient's name as they gave it."),
            code=DeliveryErrorCode.RECIPIENT_NAME_MISSING,
            field="recipient_name",
        )
    return name


def _check_id_document(order: Order, doc_type: str, number: str) -> tuple[str, str]:
    """DLV-ID-CHECK: a prepaid order's recipient may show a document; both type and number, or neither."""
    number = "".join((number or "").split())
    if not doc_type and not number:
        return "", ""
    if order.payment_method not in PREPAID_METHODS:
        raise DeliveryError(
            _(
                "An identity document is recorded only for a prepaid order; for a card paid at the door tick "
                "“identity document checked”."
            ),
            code=DeliveryErrorCode.ID_DOCUMENT_NOT_PREPAID,
            field="id_document_number",
        )
    if doc_type not in IdDocumentType.values or not number:
        raise DeliveryError(
            _("Give both the document's type and its number."),
            code=DeliveryErrorCode.ID_DOCUMENT_INCOMPLETE,
            field="id_document_type" if not doc_type else "id_document_number",
        )
    return doc_type, number[:64]


def _check_refused(shipment: Shipment, refused: dict[int, int]) -> dict[int, int]:
    in_parcel = {pl.order_line_id: pl for pl in shipment.lines.select_related("order_line")}
    clean: dict[int, int] = {}
    for line_id, quantity in refused.items():
        quantity = int(quantity or 0)
        if quantity == 0:
            continue
        parcel_line = in_parcel.get(int(line_id))
        if parcel_line is None:
            raise DeliveryError(
                _("Line %(line)s is not in parcel %(parcel)s.") % {"line": line_id, "parcel": shipment.pk},
                code=DeliveryErrorCode.UNKNOWN_LINE,
                field="refused",
            )
        if quantity < 0 or quantity > parcel_line.quantity:
            raise DeliveryError(
                _("%(product)s: between 0 and %(most)s can be refused.")
                % {"product": parcel_line.order_line.product_name, "most": parcel_line.quantity},
                code=DeliveryErrorCode.TOO_MANY_REFUSED,
                field=f"refused_{parcel_line.order_line_id}",
            )
        clean[parcel_line.order_line_id] = quantity
    return clean


def delivery_record_handover(
    *,
    shipment_id: int,
    recipient_kind: str,
    recipient_name: str = "",
    refused: dict[int, int] | None = None,
    id_document_type: str = "",
    id_document_number: str = "",
    id_document_checked: bool = False,
    card_unnamed: bool = False,
    at: dt.datetime | None = None,
    note: str = "",
    source: str = AttemptSource.STAFF,
    partner=None,
    key: str | None = None,
    actor,
) -> DeliveryAttempt:
    """DLV-HANDOVER: the parcel was handed over; ``refused`` maps order line ids to units refused (DLV-INSPECT).

    Refused units count on ``OrderLine.quantity_refused`` (the rest on ``quantity_delivered``), with
    a ``RefusedItem`` row each and one ``items_refused`` event (PAY-COD-RESTRICT (a)); their value is
    taken off what is owed (``order_adjust``, kind REFUSED_AT_DOOR, keyed by the attempt) and, for a paid
    prepaid order, refunded the way it was paid (``order_refund_due``, keyed by the attempt). A cash or
    card-on-delivery order is paid at the door for what is owed then (the ``order_paid_at_door`` hook:
    ``payments.services.payment_record_at_door``; PAY-CARD-AT-DOOR-ID: a named card needs
    ``id_document_checked``). Every unit refused: the parcel is refused, nothing is paid.
    """
    with transaction.atomic():
        order, shipment = _locked(shipment_id)
        existing = _already_recorded(key)
        if existing is not None:
            return existing
        _check_move(shipment, S.DELIVERED, S.REFUSED)
        at = _check_moment(shipment, at)
        name = _check_recipient(order, recipient_kind, recipient_name)
        doc_type, doc_number = _check_id_document(order, id_document_type, id_document_number)
        refused = _check_refused(shipment, refused or {})

        attempt = _attempt(
            order,
            shipment,
            DeliveryOutcome.DELIVERED,
            at,
            source=source,
            partner=partner,
            key=key,
            actor=actor,
            recipient_kind=recipient_kind,
            recipient_name=name[:200],
            id_document_type=doc_type,
            id_document_number=doc_number,
            note=note[:300],
        )
        kept = 0
        items = []
        for parcel_line in shipment.lines.select_related("order_line").order_by("order_line_id"):
            line = parcel_line.order_line
            no = refused.get(line.pk, 0)
            line.quantity_refused += no
            line.quantity_delivered += parcel_line.quantity - no
            line.save(update_fields=["quantity_refused", "quantity_delivered"])
            kept += parcel_line.quantity - no
            if no:
                value = money(line.net_value(no), line.unit_price.currency)  # PAY-DISCOUNTS
                RefusedItem.objects.create(attempt=attempt, order_line=line, quantity=no, value=value)
                items.append({"line_id": line.pk, "product": line.product_name, "quantity": no, "value": value})
        refused_value = _parcel_value(shipment, refused) if refused else None
        if refused_value:
            # DLV-INSPECT: refused goods are not owed (a kind of its own: they left the warehouse, unlike
            # a CANCELLED_PART, and claims must tell the two apart).
            order_adjust(
                order=order,
                kind=AdjustmentKind.REFUSED_AT_DOOR,
                amount=-refused_value,
                reason=events.Phrase(gettext_noop("Items refused at delivery (parcel %(parcel)s)"), parcel=shipment.pk),
                key=f"refused:{attempt.pk}",
                actor=actor,
            )
            events.items_refused(order=order, value=refused_value, items=items, actor=actor)
            if order.paid_at is not None and order.payment_method in PREPAID_METHODS:
                # DLV-INSPECT + PAY-REFUND-SAME-WAY: a prepaid customer pays only for what they keep; the
                # payments app writes the refund in this transaction, once per attempt (the key).
                hooks.run(
                    "order_refund_due",
                    order.pk,
                    refused_value.amount,
                    key=f"refused:{attempt.pk}",
                    reason="Items refused at delivery (DLV-INSPECT).",
                    kind="refused_at_door",  # a refunds.CaseKind: the desk sees it as such
                )
        shipment_move(shipment, S.DELIVERED if kept else S.REFUSED)
        if kept:
            events.parcel_handed_over(
                order=order,
                shipment_id=shipment.pk,
                recipient=name,
                recipient_kind=recipient_kind,
                refused_value=refused_value,
                actor=actor,
            )
            if order.payment_method in COD_METHODS:
                try:
                    # payments.services.payment_record_at_door (a peer app: reached through the hook
                    # registry, tests/test_imports.py); PAY-CARD-AT-DOOR-ID's check lives there.
                    hooks.run(
                        "order_paid_at_door",
                        order_id=order.pk,
                        method=order.payment_method,
                        amount=order_amount_due(order),
                        id_document_checked=id_document_checked,
                        card_unnamed=card_unnamed,
                        actor=actor,
                    )
                except ServiceError as exc:  # a PaymentError: rolls the whole handover back
                    raise DeliveryError(str(exc), code=exc.code, field="id_document_checked") from exc
        _order_settle(order, actor=actor, note="Handed over." if kept else "Everything refused at delivery.")
        # PAY-COD-RESTRICT (a): after the order settled, so a wholly refused order counts in full.
        standing_recompute(email=order.email, actor=actor)
        return attempt


# --- DLV-FAILED -----------------------------------------------------------------------------
def delivery_record_failure(
    *,
    shipment_id: int,
    cause: str,
    at: dt.datetime | None = None,
    note: str = "",
    source: str = AttemptSource.STAFF,
    partner=None,
    key: str | None = None,
    actor,
) -> DeliveryAttempt:
    """DLV-FAILED: an attempt failed for ``cause`` (a ``FailureCause``); the parcel is "delivery failed".

    Causes in ``BEYOND_SHOP_CONTROL`` count for PAY-COD-RESTRICT (b): the standing is recomputed here.
    Staff then arrange a re-delivery or an address change (``delivery_arrange_redelivery``).
    """
    if cause not in FailureCause.values:
        raise DeliveryError(_("Choose the cause from the list."), code=DeliveryErrorCode.UNKNOWN_CAUSE, field="cause")
    with transaction.atomic():
        order, shipment = _locked(shipment_id)
        existing = _already_recorded(key)
        if existing is not None:
            return existing
        if shipment.status != S.FAILED:  # a second failed attempt leaves it failed
            _check_move(shipment, S.FAILED)
        at = _check_moment(shipment, at)
        beyond = cause in BEYOND_SHOP_CONTROL
        attempt = _attempt(
            order,
            shipment,
            DeliveryOutcome.FAILED,
            at,
            source=source,
            partner=partner,
            key=key,
            actor=actor,
            cause=cause,
            beyond_shop_control=beyond,
            note=note[:300],
        )
        if shipment.status != S.FAILED:
            shipment_move(shipment, S.FAILED)
        events.delivery_failed(order=order, cause=cause, beyond_shop_control=beyond, actor=actor)
        standing_recompute(email=order.email, actor=actor)  # PAY-COD-RESTRICT (b)
        return attempt


# --- SHIP-ADDRESS-CHANGE --------------------------------------------------------------------
REDELIVERY, ADDRESS_CHANGE = "redelivery", "address_change"


def delivery_arrange_redelivery(
    *, shipment_id: int, kind: str, address: str = "", city: str = "", postcode: str = "", actor
) -> Shipment:
    """SHIP-ADDRESS-CHANGE: staff arrange a re-delivery after a failed attempt, or change the address
    after dispatch; the customer owes ``Policy.redelivery_fee`` for it (``order_adjust`` kind FEE).

    Idempotent: the key is the failed attempt (re-delivery) or the new address (address change), so
    pressing twice charges once. The parcel goes back on its way; the customer is e-mailed the fee.
    """
    with transaction.atomic():
        order, shipment = _locked(shipment_id)
        if kind == REDELIVERY:
            failed = shipment.attempts.filter(outcome=DeliveryOutcome.FAILED).order_by("-at", "-pk").first()
            if failed is None:
                raise DeliveryError(
                    _("Nothing to deliver again: no failed attempt is recorded for this parcel."),
                    code=DeliveryErrorCode.NO_FAILED_ATTEMPT,
                )
            key = f"redelivery:{failed.pk}"
            new_address = ""
        elif kind == ADDRESS_CHANGE:
            address, city, postcode = address.strip(), city.strip(), postcode.strip()
            if not address or not city:
                raise DeliveryError(
                    _("Enter the new address and city."),
                    code=DeliveryErrorCode.ADDRESS_MISSING,
                    field="address" if not address else "city",
                )
            digest = hashlib.sha256(f"{address}|{city}|{postcode}".encode()).hexdigest()[:16]
            key = f"address-change:{shipment.pk}:{digest}"
            new_address = ", ".join(part for part in (address, city, postcode) if part)
        else:
            raise DeliveryError(
                _("Choose re-delivery or address change."), code=DeliveryErrorCode.NOT_ALLOWED, field="kind"
            )
        if order.events.filter(type=OrderEvent.Type.REDELIVERY_ARRANGED, parameters__key=key).exists():
            return shipment
        if kind == REDELIVERY or shipment.status == S.FAILED:
            _check_move(shipment, S.SHIPPED)
        elif shipment.status != S.SHIPPED:  # an address change only while the parcel is on its way
            _check_move(shipment, S.FAILED)
        if kind == ADDRESS_CHANGE:
            order.address, order.city, order.postcode = address, city, postcode
            order.save(update_fields=["address", "city", "postcode"])
        if shipment.status == S.FAILED:
            shipment_move(shipment, S.SHIPPED)
        fee = money(Policy.load().redelivery_fee, order.total.currency)
        if fee.amount > 0:
            what = (
                gettext_noop("Address change after dispatch (parcel %(parcel)s)")
                if kind == ADDRESS_CHANGE
                else gettext_noop("Re-delivery after dispatch (parcel %(parcel)s)")
            )
            order_adjust(
                order=order,
                kind=AdjustmentKind.FEE,
                amount=fee,
                reason=events.Phrase(what, parcel=shipment.pk),
                key=key,
                actor=actor,
            )
        events.redelivery_arranged(
            order=order, shipment_id=shipment.pk, kind=kind, fee=fee, address=new_address, key=key, actor=actor
        )
        _email(
            order,
            shipment,
            kind="re-delivery fee",
            template="parcel_redelivery",
            key=f"parcel-redelivery:{key}",
            kind_of_change=kind,
            fee=fee if fee.amount > 0 else None,
            amount_due=order_amount_due(order),
            new_address=new_address,
        )
        return shipment


# --- DLV-ACCEPT-14D -------------------------------------------------------------------------
def collect_by_for(arrived_at: dt.datetime) -> dt.datetime:
    """DLV-ACCEPT-14D: the end of the shop's local day ``Policy.accept_within_days`` calendar days after arrival.

    Calendar days, as the policy says (weekends and holidays count); the customer has the whole last day.
    """
    calendar = BusinessCalendar.current()
    day = calendar.local(arrived_at).date() + dt.timedelta(days=Policy.load().accept_within_days)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=calendar.tz)


def delivery_record_awaiting_collection(
    *,
    shipment_id: int,
    at: dt.datetime | None = None,
    pickup_point: str = "",
    note: str = "",
    source: str = AttemptSource.STAFF,
    partner=None,
    key: str | None = None,
    actor,
) -> DeliveryAttempt:
    """DLV-ACCEPT-14D: the parcel arrived at a pick-up point at ``at``; it waits until ``collect_by``.

    The order moves to "arrived, awaiting collection" (when this was its last parcel on the way) and
    the customer is e-mailed the collect-by date. Collecting it is a handover
    (``delivery_record_handover``); not collecting it is ``shipments_expire_uncollected``.
    """
    with transaction.atomic():
        order, shipment = _locked(shipment_id)
        existing = _already_recorded(key)
        if existing is not None:
            return existing
        _check_move(shipment, S.AWAITING_COLLECTION)
        at = _check_moment(shipment, at)
        pickup_point = pickup_point.strip()[:300]
        attempt = _attempt(
            order,
            shipment,
            DeliveryOutcome.AWAITING_COLLECTION,
            at,
            source=source,
            partner=partner,
            key=key,
            actor=actor,
            pickup_point=pickup_point,
            note=note[:300],
        )
        shipment.collect_by = collect_by_for(at)
        shipment.collect_reminded_at = None
        shipment_move(shipment, S.AWAITING_COLLECTION, fields=["collect_by", "collect_reminded_at"])
        events.parcel_awaiting_collection(
            order=order, shipment_id=shipment.pk, collect_by=shipment.collect_by, pickup_point=pickup_point, actor=actor
        )
        if lifecycle.can_move(order, Order.Status.DELIVERED):
            lifecycle.move(order, Order.Status.DELIVERED, actor=actor, note="Waiting at the pick-up point.")
        standing_recompute(email=order.email, actor=actor)
        _email(
            order,
            shipment,
            kind="awaiting collection",
            template="parcel_awaiting_collection",
            key=f"parcel-awaiting:{shipment.pk}",
            shipment_pickup_point=pickup_point,
        )
        return attempt


def _awaiting() -> models.QuerySet:
    # The partial index shipment_collect_by_idx covers exactly these rows (status = awaiting_collection).
    return Shipment.objects.filter(status=S.AWAITING_COLLECTION)


#: Due parcels handled per transaction by the periodic tasks: locks are held, and the transaction stays
#: bounded, per chunk (issue #14).
CHUNK = 500


def _chunks(rows: list, size: int = CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _locked_many(due: list[tuple[int, int]]) -> list[tuple[Order, Shipment]]:
    """Orders first, then their parcels, each model in pk order with one query (shop/locks.py).

    ``due`` holds (parcel id, order id) pairs; a parcel moved to another order since is left out.
    """
    orders = lock_orders({order_id for _pk, order_id in due})
    shipments = lock_shipments(pk for pk, _order_id in due)
    pairs = []
    for shipment in shipments.values():
        order = orders.get(shipment.order_id)
        if order is not None:
            shipment.order = order
            pairs.append((order, shipment))
    return pairs


def shipments_remind_collection(*, now: dt.datetime | None = None) -> int:
    """DLV-ACCEPT-14D: e-mail a reminder ``Policy.collect_reminder_days`` before ``collect_by``, once per parcel.

    One indexed query; then, per chunk of ``CHUNK`` parcels, one transaction that locks them and re-checks
    each, sets ``collect_reminded_at`` with one UPDATE and queues the e-mails together, so running twice
    (or late) reminds once and the queries do not grow with the parcels (issue #14). Returns how many
    were reminded.
    """
    now = now or timezone.now()
    with policy_memoized():
        horizon = now + dt.timedelta(days=Policy.load().collect_reminder_days)
        due = list(
            _awaiting()
            .filter(collect_by__lte=horizon, collect_by__gte=now, collect_reminded_at__isnull=True)
            .order_by("collect_by", "pk")
            .values_list("pk", "order_id")
        )
        reminded = 0
        for chunk in _chunks(due):
            with transaction.atomic():
                reminded += _remind_many(chunk, now=now)
    return reminded


def _remind_many(due: list[tuple[int, int]], *, now: dt.datetime) -> int:
    pairs = [
        (order, shipment)
        for order, shipment in _locked_many(due)
        if shipment.status == S.AWAITING_COLLECTION and shipment.collect_reminded_at is None
    ]
    if not pairs:
        return 0
    Shipment.objects.filter(pk__in=[shipment.pk for _order, shipment in pairs]).update(collect_reminded_at=now)
    points = _pickup_points([shipment.pk for _order, shipment in pairs])
    mails = []
    for order, shipment in pairs:
        shipment.collect_reminded_at = now
        mails.append(
            _mail(
                order,
                shipment,
                kind="collection reminder",
                template="parcel_collect_reminder",
                key=f"parcel-collect-reminder:{shipment.pk}",
                shipment_pickup_point=points.get(shipment.pk, ""),
            )
        )
    order_emails_queue(mails)
    return len(pairs)


def _pickup_points(shipment_ids: list[int]) -> dict[int, str]:
    """Each parcel's pick-up point from its latest "awaiting collection" attempt, in one query."""
    points: dict[int, str] = {}
    rows = (
        DeliveryAttempt.objects.filter(shipment_id__in=shipment_ids, outcome=DeliveryOutcome.AWAITING_COLLECTION)
        .order_by("shipment_id", "-at", "-pk")
        .values_list("shipment_id", "pickup_point")
    )
    for shipment_id, point in rows:
        points.setdefault(shipment_id, point or "")
    return points


def shipments_expire_uncollected(*, now: dt.datetime | None = None) -> int:
    """DLV-ACCEPT-14D: a parcel not collected by ``collect_by`` is "not collected" and counts as refused.

    Its units count as refused; the order is refused (not collected) when nothing else was kept. For a
    paid order the goods are refunded less the delivery cost: what is owed drops by the refund
    (``order_adjust`` kind NOT_COLLECTED) and ``order_refund_due`` runs with the key
    ``not-collected:<parcel>``, so the payments app writes one refund however often this runs.
    One indexed query; each parcel re-checked under its lock. Returns how many expired.
    """
    now = now or timezone.now()
    due = list(_awaiting().filter(collect_by__lt=now).order_by("collect_by", "pk").values_list("pk", flat=True))
    expired = 0
    for shipment_id in due:
        with transaction.atomic():
            order, shipment = _locked(shipment_id)
            if shipment.status != S.AWAITING_COLLECTION or shipment.collect_by is None or shipment.collect_by >= now:
                continue
            for parcel_line in shipment.lines.select_related("order_line"):
                line = parcel_line.order_line
                line.quantity_refused += parcel_line.quantity
                line.save(update_fields=["quantity_refused"])
            shipment_move(shipment, S.NOT_COLLECTED)
            refund = _not_collected_refund(order, shipment)
            events.parcel_not_collected(order=order, shipment_id=shipment.pk, refund=refund)
            _order_settle(order, actor=None, note="Not collected in time.")
            standing_recompute(email=order.email)
            _email(
                order,
                shipment,
                kind="not collected",
                template="parcel_not_collected",
                key=f"parcel-not-collected:{shipment.pk}",
                refund=refund,
            )
            expired += 1
    return expired


def _not_collected_refund(order: Order, shipment: Shipment) -> Money | None:
    """DLV-ACCEPT-14D for a paid order: the parcel's goods, never more than what is owed less the delivery."""
    if order.paid_at is None:
        return None
    key = f"not-collected:{shipment.pk}"
    owed_for_goods = order_amount_due(order).amount - order.delivery_cost.amount
    amount = min(_parcel_value(shipment).amount, owed_for_goods)
    if amount <= 0:
        return None
    refund = money(amount, order.total.currency)
    order_adjust(
        order=order,
        kind=AdjustmentKind.NOT_COLLECTED,
        amount=-refund,
        reason=events.Phrase(
            gettext_noop("Parcel %(parcel)s not collected: the goods are refunded, the delivery is kept"),
            parcel=shipment.pk,
        ),
        key=key,
    )
    hooks.run(
        "order_refund_due",
        order.pk,
        refund.amount,
        key=key,
        reason="Not collected in time: the goods, less the delivery cost (DLV-ACCEPT-14D).",
        kind="not_collected",  # a refunds.CaseKind: the desk sees it as such
    )
    return refund
