"""Shipments (SHIP-METHODS, SHIP-NOTICES): quantities, tracking numbers, the order's moves, the notice, the window."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from orders.holds import hold_open
from orders.models import HoldKind, OrderEvent
from shipping.errors import ShipmentError, ShipmentErrorCode
from shipping.models import Shipment
from shipping.services.shipments import shipment_create
from shipping.tracking import format_problem, paypal_carrier
from shop.models import Email

from .shipping_support import (
    DHL_NUMBER,
    RU_DOMESTIC,
    S10_NUMBER,
    UPS_NUMBER,
    airmail,
    all_lines,
    msk,
    order_to_ship,
)

pytestmark = pytest.mark.django_db


def ship(order, *, lines=None, tracking=DHL_NUMBER, method=None):
    return shipment_create(
        order_id=order.pk,
        method_id=(method or order.delivery_method).pk,
        tracking_number=tracking,
        lines=all_lines(order) if lines is None else lines,
        actor=None,
    )


def assert_nothing_shipped(order):
    order.refresh_from_db()
    assert not Shipment.objects.filter(order=order).exists()
    assert [line.quantity_shipped for line in order.lines.all()] == [0] * order.lines.count()
    assert not Email.objects.filter(key__startswith="shipment-notice:").exists()


# --- SHIP-METHODS: tracking numbers ------------------------------------------------------------------
@pytest.mark.parametrize(
    "carrier, number, ok",
    [
        ("DHL", DHL_NUMBER, True),
        ("DHL", "123456789", False),
        ("DHL", "12345678901", False),
        ("UPS", UPS_NUMBER, True),
        ("UPS", "1Z999AA1012345678", False),
        ("UPS", "2Z999AA10123456784", False),
        ("Russian Post", RU_DOMESTIC, True),
        ("Russian Post", S10_NUMBER, True),
        ("Russian Post", "RA473124828RU", False),  # wrong S10 check digit
        ("Russian Post", "1010001234567", False),
        ("Boxberry", "anything-at-all", True),  # unknown carrier: any non-empty number
    ],
)
def test_ship_methods_tracking_number_formats_per_carrier(carrier, number, ok):
    assert (format_problem(carrier, number) is None) is ok


def test_ship_methods_paypal_carrier_codes():
    assert paypal_carrier("DHL") == ("DHL", "")
    assert paypal_carrier("russian post") == ("RUSSIAN_POST", "")
    assert paypal_carrier("Boxberry") == ("OTHER", "Boxberry")


def test_ship_methods_express_parcel_needs_a_tracking_number():
    order = order_to_ship()
    with pytest.raises(ShipmentError) as failure:
        ship(order, tracking="  ")
    assert failure.value.code == ShipmentErrorCode.TRACKING_REQUIRED
    assert failure.value.field == "tracking_number"
    assert_nothing_shipped(order)


def test_ship_methods_bad_tracking_number_refused_nothing_changed():
    order = order_to_ship()
    with pytest.raises(ShipmentError) as failure:
        ship(order, tracking="12345")
    assert failure.value.code == ShipmentErrorCode.TRACKING_FORMAT
    assert "10 digits" in str(failure.value)
    assert_nothing_shipped(order)
    assert order.status == "packed"


def test_ship_methods_tracking_link_from_the_method_pattern_number_normalised():
    order = order_to_ship(method=airmail())
    shipment = ship(order, tracking="ra 473124829 ru")
    assert shipment.tracking_number == S10_NUMBER
    assert shipment.tracking_url == f"https://www.pochta.ru/tracking?barcode={S10_NUMBER}"
    assert shipment.carrier == "Russian Post"


def test_ship_methods_air_mail_may_go_without_tracking_number():
    order = order_to_ship(method=airmail())
    shipment = ship(order, tracking="")
    assert (shipment.tracking_number, shipment.tracking_url) == ("", "")


# --- quantities and the order's moves ----------------------------------------------------------------
def test_ship_methods_over_shipping_refused_next_to_the_line_nothing_changed():
    order = order_to_ship(quantities=(2, 1))
    line = order.lines.order_by("pk").first()
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines={line.pk: 3})
    assert failure.value.code == ShipmentErrorCode.OVER_OPEN
    assert failure.value.line_id == line.pk
    assert "Only 2" in str(failure.value)
    assert_nothing_shipped(order)


def test_ship_methods_cancelled_units_are_not_open():
    order = order_to_ship(quantities=(3,))
    line = order.lines.get()
    line.quantity_cancelled = 1
    line.save(update_fields=["quantity_cancelled"])
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines={line.pk: 3})
    assert failure.value.code == ShipmentErrorCode.OVER_OPEN
    ship(order, lines={line.pk: 2})
    order.refresh_from_db()
    assert order.status == "shipped"


def test_ship_methods_empty_parcel_and_foreign_line_refused():
    order, other = order_to_ship(), order_to_ship()
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines=all_lines(order, line0=0, line1=0))
    assert failure.value.code == ShipmentErrorCode.NO_LINES
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines={other.lines.first().pk: 1})
    assert failure.value.code == ShipmentErrorCode.UNKNOWN_LINE
    assert_nothing_shipped(order)


def test_ship_notices_packed_partial_then_rest_moves_partially_shipped_then_shipped():
    order = order_to_ship(quantities=(2, 1))
    first = ship(order, lines=all_lines(order, line0=1, line1=0))
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    assert [(x.quantity_shipped, x.quantity_open) for x in order.lines.order_by("pk")] == [(1, 1), (0, 1)]
    assert [(sl.order_line.sku, sl.quantity) for sl in first.lines.all()] == [(order.lines.first().sku, 1)]
    ship(order, lines=all_lines(order, line0=1, line1=0), tracking="9876543210")
    order.refresh_from_db()
    assert order.status == "partially_shipped"  # stays: one line still open
    ship(order, lines=all_lines(order), tracking="5555555555")
    order.refresh_from_db()
    assert order.status == "shipped"
    assert all(line.quantity_open == 0 for line in order.lines.all())
    moves = order.events.filter(type=OrderEvent.Type.STATUS_CHANGED).values_list("parameters__target", flat=True)
    assert list(moves) == ["partially_shipped", "shipped"]
    assert order.events.filter(type=OrderEvent.Type.SHIPMENT_SENT, customer_visible=True).count() == 3


def test_ship_methods_from_processing_only_a_part():
    order = order_to_ship(status="processing", quantities=(2,))
    with pytest.raises(ShipmentError) as failure:
        ship(order)
    assert failure.value.code == ShipmentErrorCode.NOT_ALLOWED
    assert_nothing_shipped(order)
    ship(order, lines=all_lines(order, line0=1))
    order.refresh_from_db()
    assert order.status == "partially_shipped"


@pytest.mark.parametrize("status", ["awaiting_payment", "cancelled", "shipped", "delivered"])
def test_ship_methods_refused_outside_processing_packed_partially_shipped(status):
    order = order_to_ship(status=status)
    with pytest.raises(ShipmentError) as failure:
        ship(order)
    assert failure.value.code == ShipmentErrorCode.NOT_ALLOWED
    assert_nothing_shipped(order)


def test_ship_methods_open_hold_refuses_shipping():
    order = order_to_ship(status="processing", quantities=(2,))
    hold_open(order=order, kind=HoldKind.STOCK_DECISION, note="one unit missing")
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines=all_lines(order, line0=1))
    assert failure.value.code == ShipmentErrorCode.ON_HOLD
    assert_nothing_shipped(order)
    assert order.status == "processing"


# --- SHIP-NOTICES: the window in dates and the notice --------------------------------------------------
@pytest.mark.parametrize(
    "shipped_at, window",
    [
        # Thursday before the public holiday of 12 June 2026 (Friday): +1 skips Fri–Sun.
        (msk(2026, 6, 11, 10, 0), (dt.date(2026, 6, 15), dt.date(2026, 6, 17))),
        # Friday within business hours: +1 is Monday.
        (msk(2026, 6, 5, 14, 59), (dt.date(2026, 6, 8), dt.date(2026, 6, 10))),
        # Friday after 15:00: the parcel travels from Monday's opening, +1 is Tuesday.
        (msk(2026, 6, 5, 15, 1), (dt.date(2026, 6, 9), dt.date(2026, 6, 11))),
        # Saturday: counted from Monday's opening.
        (msk(2026, 6, 6, 11, 0), (dt.date(2026, 6, 9), dt.date(2026, 6, 11))),
    ],
    ids=["holiday", "friday-open", "friday-after-hours", "weekend"],
)
def test_ship_notices_window_counts_business_days_skipping_weekend_and_holiday(shipped_at, window):
    order = order_to_ship()
    with time_machine.travel(shipped_at, tick=False):
        shipment = ship(order)
    assert (shipment.expected_from, shipment.expected_to) == window
    notice = Email.objects.get(key=f"shipment-notice:{shipment.pk}")
    assert f"{window[0]:%-d %B %Y} – {window[1]:%-d %B %Y}" in notice.body_text


def test_ship_notices_air_mail_window_is_7_to_14_business_days_across_a_holiday():
    order = order_to_ship(method=airmail())
    with time_machine.travel(msk(2026, 10, 29, 10, 0), tick=False):  # Thursday; 4 November is a holiday
        shipment = ship(order, tracking=S10_NUMBER)
    assert (shipment.expected_from, shipment.expected_to) == (dt.date(2026, 11, 10), dt.date(2026, 11, 19))


def test_ship_notices_two_parcels_two_notices_with_link_dates_and_lines(django_capture_on_commit_callbacks):
    order = order_to_ship(quantities=(2, 1))
    first_line, second_line = order.lines.order_by("pk")
    with time_machine.travel(msk(2026, 6, 11, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = ship(order, lines={first_line.pk: 2})
        with django_capture_on_commit_callbacks(execute=True):
            second = ship(order, lines={second_line.pk: 1}, tracking="9876543210")
    assert len(mail.outbox) == 2
    one, two = mail.outbox
    assert order.number in one.subject and "part of it" in one.subject
    assert "part of it" not in two.subject
    for message, shipment, line, qty in ((one, first, first_line, 2), (two, second, second_line, 1)):
        assert "left our warehouse on 11 June 2026" in message.body
        assert "Carrier: DHL (Express courier)" in message.body
        assert f"Tracking number: {shipment.tracking_number}" in message.body
        assert f"Track it: {shipment.tracking_url}" in message.body
        assert "Expected delivery: 15 June 2026 – 17 June 2026" in message.body
        assert f"- {line.product_name} ({line.sku}): {qty}" in message.body
        html = message.alternatives[0][0]
        assert f'href="{shipment.tracking_url}"' in html
    assert "Still to follow" in one.body and second_line.product_name in one.body.split("Still to follow")[1]
    assert "Still to follow" not in two.body


def test_ship_methods_split_stockout_ships_what_is_on_the_shelf_the_missing_units_follow():
    """SHIP-STOCKOUT "split": the available units go now (partially shipped); the missing ones cannot
    be shipped until they arrive, and the parcel with them ships the order."""
    from shipping.services.stockout import stockout_choose, stockout_missing_reserve, stockout_report

    order = order_to_ship(status="processing", quantities=(3,), stock_taken=True)
    line = order.lines.get()
    stockout_report(order_id=order.pk, missing={line.pk: 1}, actor=None)
    stockout_choose(order_id=order.pk, choice="split", via="phone", actor=None)
    with pytest.raises(ShipmentError) as failure:
        ship(order, lines={line.pk: 3})
    assert failure.value.code == ShipmentErrorCode.OVER_OPEN
    assert "Only 2" in str(failure.value) and "1 missing" in str(failure.value)
    ship(order, lines={line.pk: 2})
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    line.product.stock = 5
    line.product.save(update_fields=["stock"])
    stockout_missing_reserve(order_id=order.pk, actor=None)
    ship(order, lines={line.pk: 1}, tracking="9876543210")
    order.refresh_from_db()
    assert order.status == "shipped"
