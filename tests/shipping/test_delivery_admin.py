"""Staff record delivery attempts from the order's page; DLV-ID-CHECK numbers are masked without permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.models import Order
from shipping.models import DeliveryAttempt, Shipment
from shipping.services import delivery
from tests.factories import UserFactory

from .support import make_order, paid_by_transfer, ship

pytestmark = pytest.mark.django_db
NUMBER = "4510123456"


def _staff(username, *perms):
    user = UserFactory(username=username, is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


@pytest.fixture
def desk(client):
    """Delivery desk staff: may see orders and record attempts, but not read identity documents."""
    user = _staff("desk", "orders.view_order", "shipping.view_deliveryattempt", "shipping.add_deliveryattempt")
    client.force_login(user)
    return client


def _handed_over_with_document() -> tuple[Order, DeliveryAttempt]:
    order = paid_by_transfer()
    attempt = delivery.delivery_record_handover(
        shipment_id=ship(order).pk,
        recipient_kind="customer",
        id_document_type="passport",
        id_document_number=NUMBER,
        actor=None,
    )
    return order, attempt


def test_dlv_id_check_staff_without_permission_see_only_the_mask(desk):
    """DLV-ID-CHECK: on the order's page and the attempt's page, only "•••• 3456" without shipping.view_id_document."""
    order, attempt = _handed_over_with_document()
    pages = [
        desk.get(reverse("admin:orders_order_change", args=[order.pk])),
        desk.get(reverse("admin:shipping_deliveryattempt_change", args=[attempt.pk])),
        desk.get(reverse("admin:shipping_deliveryattempt_changelist")),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "•••• 3456" in html and NUMBER not in html


def test_dlv_id_check_permission_shows_the_full_number(client):
    order, attempt = _handed_over_with_document()
    user = _staff("supervisor", "orders.view_order", "shipping.view_deliveryattempt", "shipping.view_id_document")
    client.force_login(user)
    html = client.get(reverse("admin:shipping_deliveryattempt_change", args=[attempt.pk])).content.decode()
    assert NUMBER in html
    assert NUMBER in client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()


def test_dlv_handover_recorded_from_the_order_page_with_errors_next_to_fields(desk):
    """DLV-HANDOVER / DLV-INSPECT from the admin: a link per parcel; bad input is shown next to its field."""
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier", lines=(("1000.00", 2),))
    [line] = order.lines.all()
    shipment = ship(order)
    order_page = desk.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    url = reverse("admin:shipping_deliveryattempt_record", args=[shipment.pk, "delivered"])
    assert url in order_page

    too_many = desk.post(url, {"recipient_kind": "customer", f"refused_{line.pk}": "5"})
    assert too_many.status_code == 200
    assert "Ensure this value is less than or equal to 2" in too_many.content.decode()
    no_name = desk.post(url, {"recipient_kind": "named_recipient", f"refused_{line.pk}": "0"})
    html = no_name.content.decode()
    assert 'class="form-row errors' in html and "Enter the recipient&#x27;s name" in html
    assert not DeliveryAttempt.objects.exists()

    done = desk.post(url, {"recipient_kind": "customer", f"refused_{line.pk}": "1"})
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED
    order_page = desk.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Delivery attempts" in order_page and "1 × " in order_page


def test_dlv_failed_and_redelivery_from_the_admin(desk):
    """DLV-FAILED, then SHIP-ADDRESS-CHANGE's re-delivery from the order page's parcel links."""
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier")
    shipment = ship(order)
    failed_url = reverse("admin:shipping_deliveryattempt_record", args=[shipment.pk, "failed"])
    assert "This field is required" in desk.post(failed_url, {"cause": ""}).content.decode()
    assert desk.post(failed_url, {"cause": "customer_absent"}).status_code == 302
    redelivery = reverse("admin:shipping_deliveryattempt_redelivery", args=[shipment.pk])
    page = desk.post(redelivery, {"kind": "address_change", "city": "Tver"}).content.decode()
    assert "Enter the new address and city." in page
    assert desk.post(redelivery, {"kind": "redelivery"}).status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).status == Shipment.Status.SHIPPED


def test_recording_needs_the_permission(client):
    shipment = ship(make_order(status=Order.Status.PROCESSING, payment_method="cash_courier"))
    client.force_login(_staff("viewer", "orders.view_order", "shipping.view_deliveryattempt"))
    url = reverse("admin:shipping_deliveryattempt_record", args=[shipment.pk, "failed"])
    assert client.post(url, {"cause": "customer_absent"}).status_code == 403
    assert not DeliveryAttempt.objects.exists()


def test_attempt_list_query_count_does_not_grow(desk, django_assert_max_num_queries):
    def grow(n):
        for _ in range(n):
            order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier")
            [line] = order.lines.all()
            delivery.delivery_record_handover(
                shipment_id=ship(order).pk, recipient_kind="customer", refused={line.pk: 1}, actor=None
            )

    url = reverse("admin:shipping_deliveryattempt_changelist")
    grow(2)
    with django_assert_max_num_queries(12):
        assert desk.get(url).status_code == 200
    grow(8)
    with django_assert_max_num_queries(12):
        assert desk.get(url).status_code == 200
