"""Staff create a shipment from the order's admin page (SHIP-METHODS); refusals appear next to their field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shipping.models import Shipment
from tests.factories import UserFactory

from .shipping_support import DHL_NUMBER, order_to_ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="warehouse", is_staff=True, is_superuser=True))
    return client


def create_url(order) -> str:
    return reverse("admin:shipping_shipment_create", args=[order.pk])


def form_data(order, *, tracking=DHL_NUMBER, **quantities) -> dict:
    data = {"method": order.delivery_method_id, "tracking_number": tracking}
    for position, line in enumerate(order.lines.order_by("pk")):
        data[f"line_{line.pk}"] = quantities.get(f"line{position}", line.quantity_open)
    return data


def field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def test_ship_methods_order_page_links_to_the_form_prefilled_with_what_is_left(staff_client):
    order = order_to_ship(quantities=(3, 1))
    change = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert create_url(order) in change and "Create shipment" in change
    page = staff_client.get(create_url(order))
    form = page.context["form"]
    first, second = order.lines.order_by("pk")
    assert form[f"line_{first.pk}"].initial == 3 and form[f"line_{second.pk}"].initial == 1
    assert form["method"].initial == order.delivery_method_id


def test_ship_methods_bad_tracking_number_shown_next_to_the_field_nothing_changed(staff_client):
    order = order_to_ship()
    response = staff_client.post(create_url(order), form_data(order, tracking="12-34"))
    assert response.status_code == 200
    assert any("not a DHL Express tracking number" in e for e in field_errors(response, "tracking_number"))
    assert not Shipment.objects.exists()
    missing = staff_client.post(create_url(order), form_data(order, tracking=""))
    assert field_errors(missing, "tracking_number") == ["Express courier parcels need a tracking number."]


def test_ship_methods_over_shipping_shown_next_to_the_line(staff_client):
    order = order_to_ship(quantities=(2, 1))
    first = order.lines.order_by("pk").first()
    response = staff_client.post(create_url(order), form_data(order, line0=5))
    assert field_errors(response, f"line_{first.pk}") == [f"Only 2 of “{first.product_name}” left to ship."]
    assert not Shipment.objects.exists()


def test_ship_notices_staff_ship_part_then_the_order_page_lists_the_parcel(staff_client):
    order = order_to_ship(quantities=(2, 1))
    response = staff_client.post(create_url(order), form_data(order, line1=0))
    assert response.status_code == 302
    shipment = Shipment.objects.get(order=order)
    assert shipment.created_by.username == "warehouse"
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    change = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert shipment.tracking_url in change and "2 × " in change
    # Only the line still open is offered next time.
    again = staff_client.get(create_url(order)).context["form"]
    assert [name for name in again.fields if name.startswith("line_")] == [f"line_{order.lines.order_by('pk')[1].pk}"]
