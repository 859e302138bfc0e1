"""SHIP-NOTICES: the customer's order page shows each parcel with the notice's facts, in a fixed number of queries."""

from __future__ import annotations

import pytest
import time_machine

from shipping.services.shipments import shipment_create

from .shipping_support import msk, order_to_ship

pytestmark = pytest.mark.django_db


def ship_each_line(order) -> list:
    return [
        shipment_create(
            order_id=order.pk,
            method_id=order.delivery_method_id,
            tracking_number=f"{1000000000 + line.pk}",
            lines={line.pk: line.quantity_open},
            actor=None,
        )
        for line in order.lines.order_by("pk")
    ]


def test_ship_notices_order_page_shows_each_parcel_with_tracking_link_and_window(client):
    order = order_to_ship(quantities=(2, 1))
    with time_machine.travel(msk(2026, 6, 11, 10, 0), tick=False):
        first, second = ship_each_line(order)
    client.force_login(order.user)
    page = client.get(order.get_absolute_url()).content.decode()
    assert page.count('class="card shipment"') == 2
    for shipment in (first, second):
        assert f'href="{shipment.tracking_url}"' in page and shipment.tracking_number in page
    assert page.count("15 Jun 2026 – 17 Jun 2026") == 2
    assert "shipped 11 Jun 2026" in page
    line = order.lines.order_by("pk").first()
    assert f"{line.product_name}: 2" in page
    assert "Parcel shipped by DHL, tracking number" in page  # the timeline


@pytest.mark.parametrize("n_lines", [1, 8])
def test_ship_notices_order_page_query_count_does_not_grow_with_parcels(client, django_assert_max_num_queries, n_lines):
    order = order_to_ship(quantities=[1] * n_lines)
    ship_each_line(order)
    client.force_login(order.user)
    # +3: the returns and claims section (the cases, their lines, the handover date for warranties);
    # +2: the parcels still on their way (DLV-LATE: their cases and the shop's date).
    # +1: the adjustments behind the amount the courier collects (#12).
    with django_assert_max_num_queries(22):
        response = client.get(order.get_absolute_url())
    assert response.content.decode().count('class="card shipment"') == n_lines
