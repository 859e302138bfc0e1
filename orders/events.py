"""One small function per event type (``OrderEvent.Type``). Every change of an order writes one.

No two functions write the same type; code that reads events selects them by the type constant.
``customer_visible`` events make the timeline on the customer's order page; staff see all of them.
Messages are written for the person reading the timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_noop

from .models import EVENT_CHOICES, Order, OrderEvent

T = OrderEvent.Type


#: Events written inside ``batched()``: inserted together when it ends (None outside one).
_batch: ContextVar[list[OrderEvent] | None] = ContextVar("order_events_batch", default=None)


@contextmanager
def batched() -> Iterator[None]:
    """Every event written inside is inserted with one bulk INSERT when the block ends (issue #14: a
    periodic sweep writes several events for each of hundreds of orders). Their ``pk`` is set then;
    code inside must not read back the events it wrote. Nested blocks join the outer one."""
    if _batch.get() is not None:
        yield
        return
    pending: list[OrderEvent] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:  # not on an exception: the transaction rolls back anyway
        OrderEvent.objects.bulk_create(pending)


@dataclass(frozen=True)
class Choice:
    """A choice's value in a timeline sentence, shown as its label in the reader's language."""

    kind: str  # a key of models.EVENT_CHOICES
    value: str
    lower: bool = False  # inside a sentence: "handed over to Anna (the customer)"

    def __str__(self) -> str:
        label = str(EVENT_CHOICES[self.kind](self.value).label)
        return label.lower() if self.lower else label


class Phrase:
    """A phrase of the shop's code inside a timeline sentence (a reason, a resolution): kept as its msgid
    (``gettext_noop``) and values and translated for the reader. Text that is no msgid, such as a
    gateway's own words, reads as it was written."""

    __slots__ = ("msgid", "values")

    def __init__(self, msgid: str, **values) -> None:
        self.msgid, self.values = msgid, values

    def __str__(self) -> str:
        return self.msgid % {name: str(value) for name, value in self.values.items()} if self.values else self.msgid


@dataclass(frozen=True)
class Day:
    """A date in a timeline sentence, written the reader's way (DATE_FORMAT)."""

    value: dt.date

    def __str__(self) -> str:
        return date_format(self.value, "DATE_FORMAT")


def _say(msgid: str, **values) -> tuple[str, dict]:
    """A customer-visible sentence kept as its msgid and values (issue #12): ``message`` stores it as
    written now, ``OrderEvent.text`` translates it for whoever reads the timeline later."""
    return msgid, values


def _record(
    order: Order, type: T, message: str | tuple[str, dict], *, actor=None, customer_visible: bool = False, **parameters
) -> OrderEvent:
    if isinstance(message, tuple):
        msgid, values = message
        parameters["say"] = {"msgid": msgid, "values": values}
        with translation.override(settings.LANGUAGE_CODE):  # ``message``: the msgid's English, whoever writes it
            message = msgid % {name: str(value) for name, value in values.items()}
    event = OrderEvent(
        order=order,
        type=type,
        actor=actor,
        message=message[:300],
        customer_visible=customer_visible,
        parameters=_jsonable(parameters),
    )
    pending = _batch.get()
    if pending is None:
        event.save(force_insert=True)
    else:
        pending.append(event)
    return event


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | Promise):  # Promise: a translatable label (gettext_lazy)
        return str(value)
    if isinstance(value, Choice):
        return {"choice": value.kind, "value": value.value, **({"lower": True} if value.lower else {})}
    if isinstance(value, Phrase):
        return {"text": value.msgid, "values": _jsonable(value.values)}
    if isinstance(value, Day):
        return {"date": value.value.isoformat()}
    if hasattr(value, "amount") and hasattr(value, "currency"):  # Money
        return {"amount": str(value.amount), "currency": str(value.currency)}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- The order and its status ---------------------------------------------------------------
def order_placed(*, order: Order, actor=None) -> OrderEvent:
    return _record(
        order,
        T.PLACED,
        _say(gettext_noop("Order %(number)s placed; total %(total)s."), number=order.number, total=order.total),
        actor=actor,
        customer_visible=True,
        total=order.total,
    )


def status_changed(*, order: Order, source: str, target: str, actor=None, note: str = "") -> OrderEvent:
    """Written by ``orders.lifecycle.move`` only: every status move, with source and target."""
    status = Choice("order_status", target)
    return _record(
        order,
        T.STATUS_CHANGED,
        _say(gettext_noop("Status: %(status)s. %(note)s"), status=status, note=note)
        if note
        else _say(gettext_noop("Status: %(status)s."), status=status),
        actor=actor,
        customer_visible=True,
        source=source,
        target=target,
    )


def order_ready(*, order: Order, actor=None) -> OrderEvent:
    """SHIP-SUBCONTRACTOR: paid (or confirmed, paid on delivery) and past every hold: fulfilment may start."""
    return _record(order, T.READY, "Ready to fulfil: the warehouse has the order.", actor=actor)


def staff_note(*, order: Order, text: str, actor) -> OrderEvent:
    """An internal note on the order: in the staff timeline, never shown to the customer."""
    return _record(order, T.STAFF_NOTE, f"Note: {text}", actor=actor, text=text)


def order_cancelled(*, order: Order, reason: str, actor=None) -> OrderEvent:
    return _record(
        order,
        T.CANCELLED,
        _say(gettext_noop("Order cancelled. Reason: %(reason)s"), reason=reason)
        if reason
        else _say(gettext_noop("Order cancelled.")),
        actor=actor,
        customer_visible=True,
        reason=reason,
    )


def order_paid(*, order: Order, amount, method: str, reference: str = "", actor=None) -> OrderEvent:
    """PAY-PREPAID-FIRST: the payment is confirmed; the shipping clock starts (``ship_by``)."""
    return _record(
        order,
        T.PAID,
        _say(gettext_noop("Payment of %(amount)s received."), amount=amount),
        actor=actor,
        customer_visible=True,
        amount=amount,
        method=method,
        reference=reference,
        ship_by=order.ship_by,
    )


def payment_status_changed(*, order: Order, source: str, target: str) -> OrderEvent:
    """Written by the payments ledger when the money rows change what the order's payment status is."""
    return _record(
        order,
        T.PAYMENT_STATUS_CHANGED,
        _say(gettext_noop("Payment: %(status)s."), status=Choice("payment_status", target)),
        customer_visible=True,
        source=source,
        target=target,
    )


def order_adjusted(*, order: Order, kind: str, amount, reason: str | Phrase, amount_due, actor=None) -> OrderEvent:
    return _record(
        order,
        T.ADJUSTED,
        _say(
            gettext_noop("%(reason)s (%(amount)s); now owed: %(owed)s."),
            reason=reason if isinstance(reason, Phrase) else Phrase(reason),
            amount=amount,
            owed=amount_due,
        ),
        actor=actor,
        customer_visible=True,
        kind=kind,
        amount=amount,
        amount_due=amount_due,
    )


# --- Holds (orders/holds.py) ----------------------------------------------------------------
def hold_opened(*, order: Order, kind: str, due_at=None, note: str = "", actor=None) -> OrderEvent:
    return _record(
        order,
        T.HOLD_OPENED,
        _say(gettext_noop("On hold: %(hold)s. %(note)s"), hold=Choice("hold", kind), note=note)
        if note
        else _say(gettext_noop("On hold: %(hold)s."), hold=Choice("hold", kind)),
        actor=actor,
        customer_visible=True,
        kind=kind,
        due_at=due_at,
    )


def hold_released(*, order: Order, kind: str, resolution: str, actor=None) -> OrderEvent:
    """Staff read it (a Russian-speaking staff member in Russian): ``resolution`` is a ``gettext_noop`` msgid."""
    return _record(
        order,
        T.HOLD_RELEASED,
        _say(
            gettext_noop("Hold released (%(hold)s): %(resolution)s"),
            hold=Choice("hold", kind, lower=True),
            resolution=Phrase(resolution),
        ),
        actor=actor,
        kind=kind,
        resolution=resolution,
    )


# --- Stock ----------------------------------------------------------------------------------
def stock_taken(*, order: Order, lines: list[tuple[str, int]]) -> OrderEvent:
    return _record(order, T.STOCK_TAKEN, "Stock reserved for the order.", lines=lines)


def stock_released(*, order: Order, lines: list[tuple[str, int]], actor=None) -> OrderEvent:
    return _record(order, T.STOCK_RELEASED, "Stock returned to the shelf.", actor=actor, lines=lines)


def _units(items: list[dict]) -> str:
    """ "2 × Tripod, 1 × Eyepiece" from items with ``product`` and ``quantity``."""
    return ", ".join(f"{item['quantity']} × {item['product']}" for item in items)


def stock_short(*, order: Order, items: list[dict], due_at=None, actor=None) -> OrderEvent:
    """SHIP-STOCKOUT: units are missing (``items``: product, quantity); the customer is asked to choose."""
    words = _units(items)
    return _record(
        order,
        T.STOCK_SHORT,
        _say(gettext_noop("Not available now: %(items)s."), items=words),
        actor=actor,
        customer_visible=True,
        items=items,
        due_at=due_at,
    )


def stockout_chosen(*, order: Order, choice: str, via: str, actor=None) -> OrderEvent:
    """SHIP-STOCKOUT: the customer's choice (by the link, or by phone as staff recorded it)."""
    chosen = Choice("stockout_choice", choice)
    return _record(
        order,
        T.STOCKOUT_CHOSEN,
        _say(gettext_noop("Choice for the unavailable items: %(choice)s (by phone)."), choice=chosen)
        if via == "phone"
        else _say(gettext_noop("Choice for the unavailable items: %(choice)s."), choice=chosen),
        actor=actor,
        customer_visible=True,
        choice=choice,
        via=via,
    )


def stockout_timed_out(*, order: Order, due_at) -> OrderEvent:
    """SHIP-STOCKOUT: no choice by the deadline; the missing part is cancelled."""
    return _record(
        order,
        T.STOCKOUT_TIMED_OUT,
        _say(gettext_noop("No choice for the unavailable items in time: they are cancelled.")),
        customer_visible=True,
        due_at=due_at,
    )


def stockout_part_cancelled(*, order: Order, items: list[dict], value, actor=None) -> OrderEvent:
    words = _units(items)
    return _record(
        order,
        T.STOCKOUT_PART_CANCELLED,
        _say(gettext_noop("Cancelled as unavailable: %(items)s (%(value)s)."), items=words, value=value),
        actor=actor,
        customer_visible=True,
        items=items,
        value=value,
    )


def stockout_date_set(*, order: Order, new_date, actor=None) -> OrderEvent:
    """SHIP-STOCKOUT split: the date by which the missing part ships (staff set it)."""
    return _record(
        order,
        T.STOCKOUT_DATE_SET,
        _say(gettext_noop("The unavailable items will ship by %(date)s."), date=Day(new_date)),
        actor=actor,
        customer_visible=True,
        new_date=new_date,
    )


def stockout_missing_reserved(*, order: Order, items: list[dict], actor=None) -> OrderEvent:
    words = _units(items)
    return _record(
        order,
        T.STOCKOUT_MISSING_RESERVED,
        _say(gettext_noop("Arrived and reserved for the order: %(items)s."), items=words),
        actor=actor,
        customer_visible=True,
        items=items,
    )


# --- ORD-PRICE-ERROR ------------------------------------------------------------------------
def price_error_marked(*, order: Order, corrections: list[dict], new_total, answer_by, actor=None) -> OrderEvent:
    return _record(
        order,
        T.PRICE_ERROR_MARKED,
        _say(gettext_noop("Price corrected; new total %(total)s. Awaiting the customer's answer."), total=new_total),
        actor=actor,
        customer_visible=True,
        corrections=corrections,
        new_total=new_total,
        answer_by=answer_by,
    )


def price_error_accepted(*, order: Order, old_total, new_total, lines: list[dict], actor=None) -> OrderEvent:
    """The customer accepted the corrected prices; the order's totals changed."""
    return _record(
        order,
        T.PRICE_ERROR_ACCEPTED,
        _say(
            gettext_noop("Customer accepted the corrected price; total %(old)s → %(new)s."),
            old=old_total,
            new=new_total,
        ),
        actor=actor,
        customer_visible=True,
        old_total=old_total,
        new_total=new_total,
        lines=lines,
    )


def price_error_declined(*, order: Order, actor=None) -> OrderEvent:
    return _record(
        order,
        T.PRICE_ERROR_DECLINED,
        _say(gettext_noop("Customer declined the corrected price.")),
        actor=actor,
        customer_visible=True,
    )


def price_error_timed_out(*, order: Order) -> OrderEvent:
    return _record(
        order,
        T.PRICE_ERROR_TIMED_OUT,
        _say(gettext_noop("No answer to the corrected price in time; order cancelled.")),
        customer_visible=True,
    )


# --- PAY-FRAUD-CHECK ------------------------------------------------------------------------
def fraud_review_approved(*, order: Order, actor=None) -> OrderEvent:
    return _record(order, T.FRAUD_REVIEW_APPROVED, "Card payment approved by staff.", actor=actor)


def fraud_review_rejected(*, order: Order, note: str = "", actor=None) -> OrderEvent:
    return _record(order, T.FRAUD_REVIEW_REJECTED, "Card payment rejected by staff.", actor=actor, note=note)


# --- E-mail ---------------------------------------------------------------------------------
def email_queued(*, order: Order, kind: str, email_id: int) -> OrderEvent:
    return _record(order, T.EMAIL_QUEUED, f"E-mail queued: {kind}.", kind=kind, email_id=email_id)


# --- Payments (payments/services) -----------------------------------------------------------
def payment_started(*, order: Order, gateway: str, reference: str = "") -> OrderEvent:
    return _record(order, T.PAYMENT_STARTED, f"Payment started via {gateway}.", gateway=gateway, reference=reference)


def money_row_moved(*, row, source: str, target: str, actor=None) -> OrderEvent:
    """Written by ``payments.lifecycle`` only: every move of a Payment or a Refund row of the order."""
    name = type(row).__name__  # "Payment" or "Refund"
    return _record(
        row.order,
        T.PAYMENT_MOVED if name == "Payment" else T.REFUND_MOVED,
        f"{name} {row.pk}: {row.get_status_display()}.",
        actor=actor,
        **{f"{name.lower()}_id": row.pk, "source": source, "target": target},
    )


def payment_received_at_door(*, order: Order, amount, method: str, actor=None) -> OrderEvent:
    return _record(
        order,
        T.PAYMENT_RECEIVED_AT_DOOR,
        _say(gettext_noop("Payment of %(amount)s received."), amount=amount),
        actor=actor,
        customer_visible=True,
        amount=amount,
        method=method,
    )


def payment_failed(*, order: Order, reason: str) -> OrderEvent:
    """``reason``: a ``gettext_noop`` msgid of the payments app, or the gateway's own words (kept as they are)."""
    return _record(
        order,
        T.PAYMENT_FAILED,
        _say(gettext_noop("Payment not completed: %(reason)s"), reason=Phrase(reason)),
        customer_visible=True,
        reason=reason,
    )


def payment_review(*, order: Order, reason: str) -> OrderEvent:
    return _record(order, T.PAYMENT_REVIEW, f"Payment held for staff review: {reason}", reason=reason)


# --- Refunds out (payments/services) --------------------------------------------------------
def refund_requested(*, order: Order, amount, reason: str, actor=None) -> OrderEvent:
    return _record(
        order,
        T.REFUND_REQUESTED,
        _say(gettext_noop("Refund of %(amount)s started."), amount=amount),
        actor=actor,
        customer_visible=True,
        amount=amount,
        reason=reason,
    )


def refund_sent(*, order: Order, amount, reference: str = "", actor=None) -> OrderEvent:
    return _record(
        order,
        T.REFUND_SENT,
        _say(gettext_noop("Refund of %(amount)s sent."), amount=amount),
        actor=actor,
        customer_visible=True,
        amount=amount,
        reference=reference,
    )


def refund_failed(*, order: Order, amount, reason: str, actor=None) -> OrderEvent:
    """PAY-REFUND-SAME-WAY: the gateway refused a refund; its amount can be refunded again."""
    return _record(
        order, T.REFUND_FAILED, f"Refund of {amount} failed: {reason}", actor=actor, amount=amount, reason=reason
    )


def refund_bank_details_received(
    *, order: Order, amount, actor=None, changed: bool = False, account_ending: str = ""
) -> OrderEvent:
    """PAY-REFUND-SAME-WAY: the customer gave (or changed) the bank account a COD/bank-transfer refund goes to.

    Only the account's last four characters are recorded (issue #10: the number is encrypted elsewhere).
    """
    ending = f" (account ending {account_ending})" if account_ending else ""
    what = "changed" if changed else "received"
    return _record(
        order,
        T.REFUND_BANK_DETAILS,
        f"Bank account for the refund of {amount} {what}{ending}; the transfer will follow.",
        actor=actor,
        customer_visible=True,
        amount=amount,
        changed=changed,
        account_ending=account_ending,
    )


# --- Delivery outcomes (written by shipping; read by PAY-COD-RESTRICT) -----------------------
def items_refused(*, order: Order, value, items: list[dict] | None = None, actor=None) -> OrderEvent:
    """DLV-INSPECT: the recipient refused some items at handover; ``value`` counts for PAY-COD-RESTRICT (a)."""
    return _record(
        order,
        T.ITEMS_REFUSED,
        _say(gettext_noop("Items worth %(value)s refused at delivery."), value=value),
        actor=actor,
        customer_visible=True,
        value=value,
        items=items or [],
    )


def delivery_failed(*, order: Order, cause: str, beyond_shop_control: bool, actor=None) -> OrderEvent:
    """DLV-FAILED: a delivery attempt failed (``cause``: a FailureCause value); causes beyond the shop's
    control count for PAY-COD-RESTRICT (b)."""
    return _record(
        order,
        T.DELIVERY_FAILED,
        _say(gettext_noop("Delivery failed: %(cause)s."), cause=Choice("failure_cause", cause)),
        actor=actor,
        customer_visible=True,
        cause=cause,
        beyond_shop_control=beyond_shop_control,
    )


def parcel_handed_over(
    *, order: Order, shipment_id: int, recipient: str, recipient_kind: str, refused_value=None, actor=None
) -> OrderEvent:
    """DLV-HANDOVER: a parcel was handed over; ``recipient`` (a name) and ``recipient_kind`` (a RecipientKind
    value) say to whom (the customer sees it)."""
    kind = Choice("recipient_kind", recipient_kind, lower=True)
    return _record(
        order,
        T.HANDED_OVER,
        _say(
            gettext_noop(
                "Parcel %(parcel)s handed over to %(recipient)s (%(kind)s). Items worth %(refused)s were refused."
            ),
            parcel=shipment_id,
            recipient=recipient,
            kind=kind,
            refused=refused_value,
        )
        if refused_value
        else _say(
            gettext_noop("Parcel %(parcel)s handed over to %(recipient)s (%(kind)s)."),
            parcel=shipment_id,
            recipient=recipient,
            kind=kind,
        ),
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        recipient=recipient,
        recipient_kind=recipient_kind,
        refused_value=refused_value,
    )


def parcel_awaiting_collection(*, order: Order, shipment_id: int, collect_by, pickup_point: str = "", actor=None):
    """DLV-ACCEPT-14D: the parcel waits at a pick-up point until ``collect_by`` (in the shop's time zone)."""
    day = Day(collect_by.date())
    return _record(
        order,
        T.AWAITING_COLLECTION,
        _say(
            gettext_noop("Parcel %(parcel)s is waiting for you at %(place)s; collect it by %(date)s."),
            parcel=shipment_id,
            place=pickup_point,
            date=day,
        )
        if pickup_point
        else _say(
            gettext_noop("Parcel %(parcel)s is waiting for you at the pick-up point; collect it by %(date)s."),
            parcel=shipment_id,
            date=day,
        ),
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        collect_by=collect_by,
        pickup_point=pickup_point,
    )


def parcel_not_collected(*, order: Order, shipment_id: int, refund=None) -> OrderEvent:
    """DLV-ACCEPT-14D: not collected in time; counts as refused; ``refund`` is the goods less delivery, if paid."""
    return _record(
        order,
        T.NOT_COLLECTED,
        _say(
            gettext_noop(
                "Parcel %(parcel)s was not collected in time and goes back to the shop. "
                "The goods (%(refund)s) will be refunded; the delivery cost is kept."
            ),
            parcel=shipment_id,
            refund=refund,
        )
        if refund
        else _say(
            gettext_noop("Parcel %(parcel)s was not collected in time and goes back to the shop."), parcel=shipment_id
        ),
        customer_visible=True,
        shipment_id=shipment_id,
        refund=refund,
    )


def redelivery_arranged(*, order: Order, shipment_id: int, kind: str, fee, key: str, address: str = "", actor=None):
    """SHIP-ADDRESS-CHANGE: a re-delivery or an address change after dispatch, and the fee charged.

    ``key`` (the failed attempt or the new address) is what makes arranging it twice charge once."""
    return _record(
        order,
        T.REDELIVERY_ARRANGED,
        _say(gettext_noop("Address changed for parcel %(parcel)s; fee %(fee)s."), parcel=shipment_id, fee=fee)
        if kind == "address_change"
        else _say(
            gettext_noop("Re-delivery arranged for parcel %(parcel)s; fee %(fee)s."), parcel=shipment_id, fee=fee
        ),
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        kind=kind,
        fee=fee,
        address=address,
        key=key,
    )


# --- Parcel claims (shipping/services/parcels.py) ------------------------------------------
def discrepancy_act(*, order: Order, shipment_id: int, act_id: int, missing: list[dict], actor=None) -> OrderEvent:
    """REF-SHORT-DELIVERY: an Act of Discrepancy was drawn up at the handover of a parcel."""
    what = ", ".join(f"{m['product']} × {m['quantity']}" for m in missing)
    return _record(
        order,
        T.DISCREPANCY_ACT,
        _say(gettext_noop("Act of Discrepancy for parcel %(parcel)s: %(missing)s."), parcel=shipment_id, missing=what)
        if what
        else _say(gettext_noop("Act of Discrepancy for parcel %(parcel)s: none missing."), parcel=shipment_id),
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        act_id=act_id,
        missing=missing,
    )


def parcel_lost(*, order: Order, shipment_id: int, reference: str, actor=None) -> OrderEvent:
    """DLV-LOST: the carrier confirmed the parcel lost (``reference``: their confirmation)."""
    return _record(
        order,
        T.PARCEL_LOST,
        f"The carrier confirmed parcel {shipment_id} lost. You choose a replacement or a refund.",
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        reference=reference,
    )


def parcel_reship(*, order: Order, shipment_id: int, reason: str, actor=None) -> OrderEvent:
    """DLV-LATE / DLV-LOST: the goods of a parcel are packed and sent again at no charge."""
    return _record(
        order,
        T.PARCEL_RESHIP,
        f"The goods of parcel {shipment_id} will be sent again at no charge ({reason}).",
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        reason=reason,
    )


# --- SHIP-SUBCONTRACTOR (shipping/services/partners.py) -------------------------------------
def partner_notified(*, order: Order, partner: str, email_id: int, notice_id: int | None) -> OrderEvent:
    """The order's details went to the fulfilment partner: an e-mail, and a notice where it has an endpoint."""
    via = "e-mail and endpoint" if notice_id else "e-mail"
    return _record(
        order,
        T.PARTNER_NOTIFIED,
        f"Sent to the fulfilment partner {partner} ({via}).",
        partner=partner,
        email_id=email_id,
        notice_id=notice_id,
    )


def partner_notice_delivered(*, order: Order, partner: str, notice_id: int, attempts: int, http_status: int):
    """The partner's endpoint answered 2xx to the order's notice (after ``attempts`` tries)."""
    return _record(
        order,
        T.PARTNER_NOTICE_DELIVERED,
        f"Fulfilment partner {partner} confirmed receipt (HTTP {http_status}, attempt {attempts}).",
        partner=partner,
        notice_id=notice_id,
        attempts=attempts,
        http_status=http_status,
    )


# --- Shipments (written by shipping; the PayPal tracker by payments) -------------------------
def shipment_sent(
    *, order: Order, shipment_id: int, carrier: str, tracking_number: str, lines: list[dict], actor=None
) -> OrderEvent:
    """SHIP-NOTICES: a parcel left with these lines; the customer's timeline shows the tracking number."""
    tracking = f", tracking number {tracking_number}" if tracking_number else ""
    return _record(
        order,
        T.SHIPMENT_SENT,
        f"Parcel shipped{f' by {carrier}' if carrier else ''}{tracking}.",
        actor=actor,
        customer_visible=True,
        shipment_id=shipment_id,
        carrier=carrier,
        tracking_number=tracking_number,
        lines=lines,
    )


def paypal_tracker_added(*, order: Order, shipment_id: int, tracking_number: str) -> OrderEvent:
    return _record(
        order,
        T.PAYPAL_TRACKER_ADDED,
        f"Tracking number {tracking_number} added to the PayPal payment.",
        shipment_id=shipment_id,
        tracking_number=tracking_number,
    )


def paypal_tracker_failed(*, order: Order, shipment_id: int, tracking_number: str, reason: str) -> OrderEvent:
    return _record(
        order,
        T.PAYPAL_TRACKER_FAILED,
        f"PayPal refused tracking number {tracking_number}: {reason}",
        shipment_id=shipment_id,
        tracking_number=tracking_number,
        reason=reason,
    )


# --- After-sale cases (refunds/services) ----------------------------------------------------
def case_opened(*, order: Order, case_id: int, kind: str, label: str, refund_due_at=None, actor=None) -> OrderEvent:
    """REF-*: a case was opened (by the customer, staff or the system); REF-SLA: with its refund due date."""
    return _record(
        order,
        T.CASE_OPENED,
        f"{label} (case {case_id}) opened.",
        actor=actor,
        customer_visible=True,
        case_id=case_id,
        kind=kind,
        refund_due_at=refund_due_at,
    )


def case_moved(*, order: Order, case_id: int, source: str, target: str, label: str, note: str = "", actor=None):
    """Written by ``refunds.lifecycle`` only: every status move of a case, with source and target."""
    return _record(
        order,
        T.CASE_MOVED,
        f"Case {case_id}: {label}." + (f" {note}" if note else ""),
        actor=actor,
        customer_visible=True,
        case_id=case_id,
        source=source,
        target=target,
    )


def case_goods_received(*, order: Order, case_id: int, items: list[dict], refund_due_at=None, actor=None):
    """REF-DEFECT, REF-WITHDRAW-30D: goods came back; the defect refund clock starts here."""
    return _record(
        order,
        T.CASE_GOODS_RECEIVED,
        f"Case {case_id}: returned goods received ({_units(items)}).",
        actor=actor,
        customer_visible=True,
        case_id=case_id,
        items=items,
        refund_due_at=refund_due_at,
    )


def case_goods_settled(*, order: Order, case_id: int, product: str, restocked: int, written_off: int, actor=None):
    """Staff put returned units back on the shelf or wrote them off."""
    return _record(
        order,
        T.CASE_GOODS_SETTLED,
        f"Case {case_id}: {product}: {restocked} back in stock, {written_off} written off.",
        actor=actor,
        case_id=case_id,
        product=product,
        restocked=restocked,
        written_off=written_off,
    )


def case_replacement_ordered(*, order: Order, case_id: int, replacement_number: str, actor=None) -> OrderEvent:
    """REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY, DLV-LOST: a new order at no charge replaces the goods."""
    return _record(
        order,
        T.CASE_REPLACEMENT_ORDERED,
        f"Case {case_id}: replacement order {replacement_number} created at no charge.",
        actor=actor,
        customer_visible=True,
        case_id=case_id,
        replacement=replacement_number,
    )


# --- PAY-DISCOUNTS --------------------------------------------------------------------------
def bonus_points(*, order: Order, kind: str, points: int, balance: int, note: str = "") -> OrderEvent:
    """Written by ``orders.bonus`` for every ledger row of the order (earned, spent, returned, taken back)."""
    verb = "added to" if points > 0 else "taken from"
    return _record(
        order,
        T.BONUS_POINTS,
        f"{abs(points)} bonus points {verb} the customer's account ({kind.replace('_', ' ')})."
        + (f" {note}" if note else ""),
        customer_visible=True,
        kind=kind,
        points=points,
        balance=balance,
    )
