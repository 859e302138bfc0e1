"""Staff notes: "Add a note" on the order's admin page; the note is in the staff timeline and never on
the customer's order page."""

import pytest
from django.urls import reverse

from orders.models import OrderEvent
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order

pytestmark = pytest.mark.django_db
NOTE = "Customer called: leave the parcel with the concierge."


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    return isolate_hooks(monkeypatch)


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def test_staff_note_added_from_the_order_page_shows_in_the_staff_timeline_only(staff_client, client):
    customer = UserFactory(username="anna")
    order = make_order(status="processing", payment_method="cash_courier", user=customer)
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    note_url = reverse("admin:orders_order_note", args=[order.pk])
    assert note_url in staff_client.get(change_url).content.decode()  # the "Add a note" button
    assert "Add a note to order" in staff_client.get(note_url).content.decode()

    response = staff_client.post(note_url, {"text": NOTE}, follow=True)
    assert response.redirect_chain[-1][0] == change_url
    html = response.content.decode()
    assert f"Note added to order {order.number}." in html
    assert f"Note: {NOTE}" in html  # the timeline inline
    event = order.events.get(type=OrderEvent.Type.STAFF_NOTE)
    assert event.actor == staff_client.user and event.customer_visible is False

    client.force_login(customer)
    page = client.get(reverse("orders:detail", kwargs={"number": order.number}))
    assert page.status_code == 200
    assert "concierge" not in page.content.decode()


def test_staff_note_empty_is_refused_next_to_the_field_and_nothing_is_written(staff_client):
    order = make_order(status="processing", payment_method="cash_courier")
    response = staff_client.post(reverse("admin:orders_order_note", args=[order.pk]), {"text": "   "})
    assert response.status_code == 200
    assert '<ul class="errorlist"' in response.content.decode()
    assert "This field is required." in response.content.decode()
    assert not order.events.filter(type=OrderEvent.Type.STAFF_NOTE).exists()


def test_staff_note_needs_the_change_permission(client):
    order = make_order(status="processing", payment_method="cash_courier")
    client.force_login(UserFactory(username="clerk", is_staff=True))
    response = client.post(reverse("admin:orders_order_note", args=[order.pk]), {"text": NOTE})
    assert response.status_code == 403
    assert not order.events.filter(type=OrderEvent.Type.STAFF_NOTE).exists()
