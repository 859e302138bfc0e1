"""Helpers for the shipping tests (not a test module)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.factories import DeliveryMethodFactory
from tests.payments.payment_support import make_order

MSK = ZoneInfo("Europe/Moscow")
#: Valid numbers of each carrier's format (the S10 one with its check digit).
DHL_NUMBER = "1234567890"
UPS_NUMBER = "1Z999AA10123456784"
S10_NUMBER = "RA473124829RU"
RU_DOMESTIC = "10100012345678"


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def express():
    """SHIP-METHODS: the express courier (DHL), 1–3 business days, tracking required."""
    return DeliveryMethodFactory(
        code="dhl-express",
        name="Express courier",
        carrier="DHL",
        is_default=False,
        delivery_days_min=1,
        delivery_days_max=3,
        requires_tracking=True,
        tracking_url_pattern="https://www.dhl.com/en/express/tracking.html?AWB={number}",
    )


def airmail():
    """SHIP-METHODS: the default, International air mail by Russian Post, 7–14 business days."""
    method = DeliveryMethodFactory()
    method.tracking_url_pattern = "https://www.pochta.ru/tracking?barcode={number}"
    method.save(update_fields=["tracking_url_pattern"])
    return method


def order_to_ship(*, status="packed", quantities=(2, 1), method=None, payment_method="cash_courier", **kwargs):
    """An order with one line per quantity, ready to ship (packed by default)."""
    method = method or express()
    return make_order(
        status=status,
        payment_method=payment_method,
        delivery_method=method,
        lines=[("1000.00", q) for q in quantities],
        **kwargs,
    )


def all_lines(order, **overrides) -> dict[int, int]:
    """{line id: quantity left} for every line of the order, with ``overrides`` by position."""
    lines = list(order.lines.order_by("pk"))
    wanted = {line.pk: line.quantity_open for line in lines}
    for position, quantity in overrides.items():
        wanted[lines[int(position.removeprefix("line"))].pk] = quantity
    return wanted
