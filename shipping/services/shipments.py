"""Shipments (SHIP-METHODS, SHIP-NOTICES): a parcel leaves with some of the order's lines.

``shipment_create`` is the one way a parcel is recorded. In one transaction it locks the order and
its lines (``shop.locks``: order, then lines in pk order), checks every quantity against what is
left to ship (the ``orderline_shipped_le_open`` CHECK constraint backs the check), checks the
tracking number against the carrier's format (``shipping.tracking``), writes the Shipment and its
lines, adds to each line's shipped counter, moves the order (``orders.lifecycle``), writes the event,
queues the shipping notice (outbox) and, through the ``shipment_tracked`` hook, lets payments owe
PayPal the tracker for a PayPal-paid order. A refusal raises ``ShipmentError`` and changes nothing.

Two staff shipping the same line at once queue on the order row: the second sees the first's
shipped quantity and is refused if nothing is left.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders import events, lifecycle
from orders.holds import open_kinds
from orders.models import Order, OrderLine
from orders.notifications import order_email_queue, shop_local
from shop import hooks
from shop.calendar import BusinessCalendar
from shop.locks import lock_order, lock_order_lines
from shop.models import DeliveryMethod, Email, Policy

from .. import tracking
from ..errors import ShipmentError
from ..errors import ShipmentErrorCode as Code
from ..models import Shipment, ShipmentLine

S = Order.Status

#: Statuses a parcel may leave from (orders/lifecycle.py): packed, or the rest of a partly shipped
#: order; from processing only part of the order (the table has processing → partially_shipped,
#: never processing → shipped: a whole order is packed first).
SHIPPABLE = frozenset({S.PROCESSING, S.PACKED, S.PARTIALLY_SHIPPED})


def expected_window(*, shipped_at: dt.datetime, days_min: int, days_max: int, calendar: BusinessCalendar | None = None):
    """SHIP-NOTICES: the delivery window as dates: the method's business days counted from the ship moment.

    Counted by the business calendar from the next opening (a parcel handed over on Friday evening
    starts travelling on Monday); weekends, public holidays and closures are skipped.
    """
    calendar = calendar or BusinessCalendar.current()

    def day(n: int) -> dt.date:
        return calendar.local(calendar.add_business_days(shipped_at, n)).date()

    return day(days_min), day(days_max)


def investigate_on_for(expected_to: dt.date, *, calendar: BusinessCalendar | None = None) -> dt.date:
    """DLV-LATE: the day the shop opens an investigation itself: ``Policy.late_parcel_margin_days``
    business days after the window's last day (0: the day after it)."""
    calendar = calendar or BusinessCalendar.current()
    margin = Policy.load().late_parcel_margin_days
    if margin == 0:
        return expected_to + dt.timedelta(days=1)
    return calendar.add_business_days_to_date(expected_to, margin)


def _target_status(order: Order, *, left_after: int) -> str | None:
    """The status this parcel moves the order to (None: it stays partially shipped)."""
    if order.status not in SHIPPABLE:
        raise ShipmentError(
            _("An order in status “%(status)s” cannot be shipped.") % {"status": order.get_status_display()},
            code=Code.NOT_ALLOWED,
        )
    if left_after > 0:
        return None if order.status == S.PARTIALLY_SHIPPED else S.PARTIALLY_SHIPPED
    if order.status == S.PROCESSING:
        raise ShipmentError(
            _("Mark the order packed before shipping all of it; from processing only a part may be shipped."),
            code=Code.NOT_ALLOWED,
            field="lines",
        )
    return S.SHIPPED


def _quantities(lines: dict[int, int], locked: dict[int, OrderLine]) -> dict[int, int]:
    """The asked quantities, checked against what is left on each line and on the shelf (zero lines dropped).

    Units counted short (SHIP-STOCKOUT: missing, the rest to follow) are still owed but cannot go
    until they arrive (``quantity_on_shelf``; the ``orderline_short_le_open`` CHECK backs this too).
    """
    wanted: dict[int, int] = {}
    for line_id, quantity in lines.items():
        line_id, quantity = int(line_id), int(quantity)
        line = locked.get(line_id)
        if line is None:
            raise ShipmentError(_("That line is not part of this order."), code=Code.UNKNOWN_LINE, line_id=line_id)
        if quantity < 0:
            raise ShipmentError(
                _("A quantity cannot be negative."), code=Code.BAD_QUANTITY, field="lines", line_id=line_id
            )
        if quantity > line.quantity_on_shelf:
            names = {"count": line.quantity_on_shelf, "product": line.product_name, "short": line.quantity_short}
            if line.quantity_short:
                message = ngettext(
                    "Only %(count)s of “%(product)s” left to ship (%(short)s missing, to follow).",
                    "Only %(count)s of “%(product)s” left to ship (%(short)s missing, to follow).",
                    line.quantity_on_shelf,
                )
            else:
                message = ngettext(
                    "Only %(count)s of “%(product)s” left to ship.",
                    "Only %(count)s of “%(product)s” left to ship.",
                    line.quantity_on_shelf,
                )
            raise ShipmentError(
                message % names,
                code=Code.OVER_OPEN,
                field="lines",
                line_id=line_id,
            )
        if quantity:
            wanted[line_id] = quantity
    if not wanted:
        raise ShipmentError(_("Put at least one item in the parcel."), code=Code.NO_LINES, field="lines")
    return wanted


def _tracking(method: DeliveryMethod, number: str) -> tuple[str, str]:
    """(normalised number, tracking link); SHIP-METHODS: express parcels always carry a number."""
    number = tracking.normalise(number)
    if not number:
        if method.requires_tracking:
            raise ShipmentError(
                _("%(method)s parcels need a tracking number.") % {"method": method.name},
                code=Code.TRACKING_REQUIRED,
                field="tracking_number",
            )
        return "", ""
    problem = tracking.format_problem(method.carrier, number)
    if problem:
        raise ShipmentError(problem, code=Code.TRACKING_FORMAT, field="tracking_number")
    return number, method.tracking_url(quote(number, safe=""))


@transaction.atomic
def shipment_create(*, order_id: int, method_id: int, tracking_number: str, lines: dict[int, int], actor) -> Shipment:
    """Record a parcel that left with ``lines`` ({order line id: quantity}); see the module docstring."""
    order = lock_order(order_id)
    locked = lock_order_lines(order_id)
    method = DeliveryMethod.objects.filter(pk=method_id).first()
    if method is None:
        raise ShipmentError(_("Choose a delivery method."), code=Code.UNKNOWN_METHOD, field="method")
    held = open_kinds(order)
    if held:
        raise ShipmentError(
            _("The order is on hold (%(holds)s); release the hold before shipping.")
            % {"holds": ", ".join(sorted(held))},
            code=Code.ON_HOLD,
        )
    wanted = _quantities(lines, locked)
    left_after = sum(line.quantity_open for line in locked.values()) - sum(wanted.values())
    target = _target_status(order, left_after=left_after)
    number, url = _tracking(method, tracking_number)

    now = timezone.now()
    expected_from, expected_to = expected_window(
        shipped_at=now, days_min=method.delivery_days_min, days_max=method.delivery_days_max
    )
    shipment = Shipment.objects.create(
        order=order,
        method=method,
        carrier=method.carrier,
        tracking_number=number,
        tracking_url=url,
        shipped_at=now,
        expected_from=expected_from,
        expected_to=expected_to,
        investigate_on=investigate_on_for(expected_to),  # DLV-LATE
        # DLV-LATE / DLV-LOST: the parcel staff asked to send again, if any, is replaced by this one.
        reshipment_of=Shipment.objects.filter(order=order, reship_requested_at__isnull=False, reshipments__isnull=True)
        .order_by("pk")
        .first(),
        created_by=actor,
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
        for line_id, quantity in wanted.items()
    )
    for line_id, quantity in wanted.items():
        line = locked[line_id]
        line.quantity_shipped += quantity  # the orderline_shipped_le_open CHECK refuses more than is open
        line.save(update_fields=["quantity_shipped"])

    if target is not None:
        lifecycle.move(order, target, actor=actor, note=f"Parcel {shipment.pk} left.")
    parcel = [{"sku": locked[i].sku, "name": locked[i].product_name, "quantity": q} for i, q in sorted(wanted.items())]
    events.shipment_sent(
        order=order,
        shipment_id=shipment.pk,
        carrier=shipment.carrier,
        tracking_number=number,
        lines=parcel,
        actor=actor,
    )
    shipment_notice_queue(shipment=shipment, order=order)
    if number:
        carrier, carrier_other = tracking.paypal_carrier(shipment.carrier)
        hooks.run(
            "shipment_tracked",
            order.pk,
            shipment_id=shipment.pk,
            carrier=carrier,
            carrier_name_other=carrier_other,
            tracking_number=number,
            shipped_on=shop_local(now).date(),
            items=parcel,
        )
    return shipment


def shipment_notice_queue(*, shipment: Shipment, order: Order) -> Email:
    """SHIP-NOTICES: the shipping notice: ship date, carrier, tracking number and link, the expected
    delivery window in dates, and the lines in this parcel (what is still to follow, if any)."""
    parcel = list(shipment.lines.select_related("order_line"))
    to_follow = [line for line in order.lines.all() if line.quantity_open > 0]
    return order_email_queue(
        order=order,
        kind="shipped",
        template="order_shipped",
        key=f"shipment-notice:{shipment.pk}",
        shipment=shipment,
        parcel=parcel,
        to_follow=to_follow,
        shipped_at_local=shop_local(shipment.shipped_at),
    )
