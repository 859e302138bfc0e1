"""The Act of Discrepancy (REF-SHORT-DELIVERY): drawn up at a handover where items were missing or wrong.

Staff draw it up from the handover (a ``DeliveryAttempt`` with outcome "handed over"): per line of the
parcel, the units it should have held and the units handed over (a wrong item counts as not handed
over; the note says what came instead). The act is printed as a PDF (``act_pdf``, the shop's one
WeasyPrint path ``shop.pdf``) with signature lines for the recipient and the courier; staff upload
the signed scan (``act_attach_scan``). A short-delivery claim without an act may be declined
(``shipping.services.parcels.short_delivery_decline_without_act``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders import events
from orders.notifications import order_email_queue
from shop.calendar import BusinessCalendar
from shop.errors import ServiceError
from shop.models import Policy
from shop.pdf import render_pdf

from ..models import ActLine, ActOfDiscrepancy, DeliveryAttempt, DeliveryOutcome, validate_act_scan
from .delivery import _locked

__all__ = ["ACT_BUILDER", "ActError", "act_attach_scan", "act_attachment", "act_draw_up", "act_pdf", "act_defaults"]

#: The e-mail attachment builder's name (registered in ShippingConfig.ready).
ACT_BUILDER = "shipping.act"


class ActErrorCode(models.TextChoices):
    NOT_A_HANDOVER = "not_a_handover", "Not a handover"
    BAD_QUANTITY = "bad_quantity", "Handed over quantity out of range"
    NOTHING_MISSING = "nothing_missing", "Nothing missing or wrong"
    PLACE_MISSING = "place_missing", "Place missing"
    BAD_SCAN = "bad_scan", "Scan not accepted"


class ActError(ServiceError):
    """The act cannot be drawn up (or the scan stored) as asked; nothing changed. ``field``: the form field."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field


def act_defaults(attempt: DeliveryAttempt) -> tuple[str, dict[int, int]]:
    """The place and the handed-over units to start the form from: the parcel less what was refused."""
    refused = {item.order_line_id: item.quantity for item in attempt.refused_items.all()}
    handed = {pl.order_line_id: pl.quantity - refused.get(pl.order_line_id, 0) for pl in attempt.shipment.lines.all()}
    order = attempt.order
    place = attempt.pickup_point or ", ".join(part for part in (order.address, order.postcode, order.city) if part)
    return place, handed


def act_draw_up(*, attempt_id: int, handed_over: dict[int, int], place: str, note: str = "", actor) -> ActOfDiscrepancy:
    """REF-SHORT-DELIVERY: record the act for the handover ``attempt_id``.

    ``handed_over`` maps the parcel's order line ids to the units handed over (0 … units in the
    parcel). At least one line must fall short. One act per handover: a second call returns the first.
    The order's timeline says what was missing; the customer is e-mailed the act as a PDF.
    """
    attempt = DeliveryAttempt.objects.filter(pk=attempt_id).select_related("shipment").first()
    if attempt is None or attempt.outcome != DeliveryOutcome.DELIVERED:
        raise ActError(_("An act is drawn up from a handover."), code=ActErrorCode.NOT_A_HANDOVER)
    with transaction.atomic():
        order, shipment = _locked(attempt.shipment_id)
        existing = ActOfDiscrepancy.objects.filter(attempt_id=attempt.pk).first()
        if existing is not None:
            return existing
        place = (place or "").strip()
        if not place:
            raise ActError(_("Say where the parcel was handed over."), code=ActErrorCode.PLACE_MISSING, field="place")
        rows, missing = [], []
        for parcel_line in shipment.lines.select_related("order_line").order_by("order_line_id"):
            line = parcel_line.order_line
            got = handed_over.get(line.pk, parcel_line.quantity)
            try:
                got = int(got)
            except (TypeError, ValueError):
                got = -1
            if not 0 <= got <= parcel_line.quantity:
                raise ActError(
                    _("%(product)s: between 0 and %(most)s can be handed over.")
                    % {"product": line.product_name, "most": parcel_line.quantity},
                    code=ActErrorCode.BAD_QUANTITY,
                    field=f"handed_{line.pk}",
                )
            rows.append((line, parcel_line.quantity, got))
            if got < parcel_line.quantity:
                short = parcel_line.quantity - got
                missing.append({"line_id": line.pk, "product": line.product_name, "quantity": short})
        if not missing:
            raise ActError(
                _("Every unit was handed over: an act records what is missing or wrong. Lower a handed-over quantity."),
                code=ActErrorCode.NOTHING_MISSING,
            )
        act = ActOfDiscrepancy.objects.create(
            order=order,
            shipment=shipment,
            attempt=attempt,
            place=place[:300],
            note=(note or "").strip(),
            created_by=actor,
        )
        ActLine.objects.bulk_create(
            ActLine(act=act, order_line=line, quantity_expected=expected, quantity_handed_over=got)
            for line, expected, got in rows
        )
        events.discrepancy_act(order=order, shipment_id=shipment.pk, act_id=act.pk, missing=missing, actor=actor)
        order_email_queue(
            order=order,
            kind="act of discrepancy",
            template="parcel_discrepancy_act",
            key=f"discrepancy-act:{act.pk}",
            act_number=act.number,
            missing=missing,
            shipment=shipment,
            attachment_builder=ACT_BUILDER,
            attachment_ref=str(act.pk),
        )
        return act


def act_context(act: ActOfDiscrepancy) -> dict:
    calendar = BusinessCalendar.current()
    attempt = act.attempt
    return {
        "act": act,
        "order": act.order,
        "shipment": act.shipment,
        "attempt": attempt,
        "lines": list(act.lines.select_related("order_line")),
        "policy": Policy.load(),
        # Naive wall-clock times of the shop's time zone: templates show them as they are.
        "handed_over_local": calendar.local(attempt.at).replace(tzinfo=None),
        "created_local": calendar.local(act.created_at).replace(tzinfo=None),
    }


def act_pdf(act: ActOfDiscrepancy) -> bytes:
    """REF-SHORT-DELIVERY: the act to print and sign (order, parcel, ordered vs handed over, date, place)."""
    with translation.override(act.order.language):  # the language the customer ordered in
        return render_pdf("pdf/act_of_discrepancy.html", act_context(act))


def act_attachment(ref: str) -> tuple[str, bytes, str]:
    """The e-mail attachment builder (runs in the e-mail worker)."""
    act = ActOfDiscrepancy.objects.select_related("order", "shipment", "attempt").get(pk=int(ref))
    return f"act-of-discrepancy-{act.number}.pdf", act_pdf(act), "application/pdf"


def act_attach_scan(*, act_id: int, scan, actor) -> ActOfDiscrepancy:
    """REF-SHORT-DELIVERY: store the signed act's scan (PDF, PNG or JPEG up to 10 MB) in media storage.

    A new scan replaces the previous one (a better scan of the same paper). The customer is e-mailed
    that the signed act is on file.
    """
    try:
        validate_act_scan(scan)
    except ValidationError as exc:
        raise ActError(exc.messages[0], code=ActErrorCode.BAD_SCAN, field="scan") from exc
    with transaction.atomic():
        act = ActOfDiscrepancy.objects.filter(pk=act_id).values_list("shipment_id", flat=True).first()
        if act is None:
            raise ActError(_("No such act."), code=ActErrorCode.NOT_A_HANDOVER)
        order, _shipment = _locked(act)
        act = ActOfDiscrepancy.objects.select_for_update(of=("self",)).get(pk=act_id)
        old = act.scan.name if act.scan else ""
        act.scan.save(scan.name, scan, save=False)
        act.scan_uploaded_at = timezone.now()
        act.scan_uploaded_by = actor
        act.save(update_fields=["scan", "scan_uploaded_at", "scan_uploaded_by"])
        if old and old != act.scan.name:
            storage, name = act.scan.storage, old
            transaction.on_commit(lambda: storage.delete(name))
        order_email_queue(
            order=order,
            kind="signed act on file",
            template="parcel_discrepancy_act_signed",
            key=f"discrepancy-act-signed:{act.pk}",
            act_number=act.number,
        )
        return act
