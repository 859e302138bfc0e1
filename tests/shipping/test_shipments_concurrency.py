"""SHIP-METHODS on real PostgreSQL: staff shipping the same line at once never ship more than is left.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> .venv/bin/pytest tests/shipping``.
"""

from __future__ import annotations

import pytest

from shipping.errors import ShipmentError, ShipmentErrorCode
from shipping.models import ShipmentLine
from shipping.services.shipments import shipment_create
from tests.concurrency_support import race as _race

from .shipping_support import order_to_ship

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _ship(order, line, quantity, number):
    return shipment_create(
        order_id=order.pk,
        method_id=order.delivery_method_id,
        tracking_number=number,
        lines={line.pk: quantity},
        actor=None,
    )


def test_ship_methods_two_staff_ship_the_same_line_at_once_only_what_is_left_goes():
    """3 units left, two staff each ship 2 at the same moment: one parcel goes, the other is refused with a code."""
    order = order_to_ship(status="packed", quantities=(3,))
    line = order.lines.get()
    results = _race(2, lambda i: _ship(order, line, 2, f"100000000{i}"))
    refused = [r for r in results if isinstance(r, ShipmentError)]
    shipped = [r for r in results if not isinstance(r, Exception)]
    assert len(shipped) == 1 and len(refused) == 1, results
    assert refused[0].code == ShipmentErrorCode.OVER_OPEN
    assert "Only 1" in str(refused[0])
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.quantity_shipped == 2
    assert sum(ShipmentLine.objects.filter(order_line=line).values_list("quantity", flat=True)) == 2
    assert order.status == "partially_shipped"


def test_ship_methods_eight_staff_one_unit_each_of_five_exactly_five_ship():
    order = order_to_ship(status="packed", quantities=(5,))
    line = order.lines.get()
    results = _race(8, lambda i: _ship(order, line, 1, f"20000000{i:02d}"))
    assert sum(not isinstance(r, Exception) for r in results) == 5
    assert {r.code for r in results if isinstance(r, Exception)} == {ShipmentErrorCode.OVER_OPEN}
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.quantity_shipped, order.status) == (5, "shipped")
