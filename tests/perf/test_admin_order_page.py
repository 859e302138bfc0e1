"""Issue #14: the order's admin page draws its read-only inlines as plain tables, without formsets."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.models import OrderEvent
from tests.factories import UserFactory
from tests.orders.lifecycle_support import make_order
from tests.payments.payment_support import completed_payment

pytestmark = pytest.mark.django_db


def _order_with_payment():
    order = make_order(status="processing", payment_method="paypal", lines=[("100.00", 2)])
    return order, completed_payment(order)


def _login(client, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    client.force_login(user)
    return user


def test_read_only_inlines_are_tables_with_the_same_rows_links_and_no_form(client, policy):
    boss = _login(client, username="boss", is_superuser=True)
    order, payment = _order_with_payment()
    OrderEvent.objects.create(order=order, type=OrderEvent.Type.STAFF_NOTE, message="Called the customer", actor=boss)
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # No formset is built for them: no management form, no hidden id inputs, no inline script.
    assert list(response.context["inline_admin_formsets"]) == []
    assert "TOTAL_FORMS" not in html and "inlines.js" not in html
    tables = {table.prefix: table for table in response.context["inline_tables"]}
    assert {"lines", "payments", "events"} <= tables.keys()
    assert 'id="events-group"' in html and "Called the customer" in html
    # A related row is a link to its admin page (the note's author), as in Django's read-only field.
    assert reverse("admin:auth_user_change", args=[boss.pk]) in html
    # show_change_link: each payment links to its own page ("View": nobody may change it here).
    payment_url = reverse("admin:payments_payment_change", args=[payment.pk])
    assert f'<a href="{payment_url}" class="inlineviewlink">View</a>' in html
    assert [row["original"] for row in tables["payments"].rows] == [payment]
    assert [name for name, *_ in tables["lines"].headers][:2] == ["product_name", "sku"]


def test_an_inline_staff_may_not_view_is_not_drawn(client, policy):
    staff = _login(client, username="clerk")
    staff.user_permissions.add(Permission.objects.get(codename="view_order", content_type__app_label="orders"))
    order, _payment = _order_with_payment()
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    prefixes = {table.prefix for table in response.context["inline_tables"]}
    assert "payments" not in prefixes and 'id="payments-group"' not in response.content.decode()
    staff.user_permissions.add(Permission.objects.get(codename="view_payment", content_type__app_label="payments"))
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert "payments" in {table.prefix for table in response.context["inline_tables"]}
