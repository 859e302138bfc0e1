"""Issue #14: query counts that must not grow with the data (pinned at two sizes), and no double loads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import OrderEvent
from shop.models import Cart, CartLine, Policy, policy_memo_end, policy_memo_start
from tests.factories import ProductFactory, UserFactory
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


def _cart_client(client, lines: int):
    session = client.session
    session.save()
    cart = Cart.objects.create(session_key=session.session_key)
    for _ in range(lines):
        CartLine.objects.create(cart=cart, product=ProductFactory(stock=50), quantity=1)
    session["cart_id"] = cart.pk
    session.save()
    return client


@pytest.mark.parametrize("lines", [1, 5])
def test_cart_page_reads_the_cart_once_for_page_and_header(client, policy, lines, django_assert_max_num_queries):
    """The cart view and the header's summary (context processor) share one read of the cart and lines."""
    _cart_client(client, lines)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("shop:cart"))
    assert response.status_code == 200 and response.context["count"] == lines
    cart_reads = [q for q in captured.captured_queries if 'FROM "shop_cart"' in q["sql"]]
    line_reads = [q for q in captured.captured_queries if 'FROM "shop_cartline"' in q["sql"]]
    assert len(cart_reads) == 1 and len(line_reads) == 1
    with django_assert_max_num_queries(8):  # session, cart, lines, pictures, policy, region, … (same at 1 and 5)
        client.get(reverse("shop:cart"))


def test_policy_is_read_once_per_request_and_afresh_in_the_next(policy, django_assert_num_queries):
    # The receivers are called directly: sending request_started/finished here would also run Django's
    # close_old_connections, which closes a PostgreSQL connection inside the test's transaction.
    policy_memo_start()
    try:
        with django_assert_num_queries(1):
            assert Policy.load() is Policy.load() is Policy.load()
        policy_in_request = Policy.load()
    finally:
        policy_memo_end()
    Policy.objects.filter(pk=1).update(shop_name="Renamed shop")
    with django_assert_num_queries(1):
        assert Policy.load().shop_name == "Renamed shop"
    assert policy_in_request.shop_name != "Renamed shop"


def test_a_page_reads_the_policy_once(client, policy, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    ProductFactory()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("shop:product_list"))
    assert response.status_code == 200
    assert sum('FROM "shop_policy"' in q["sql"] for q in captured.captured_queries) == 1


def _order_with_events(events: int):
    order = make_order(status="processing", payment_method="cash_courier", lines=[("100.00", 1)] * 3)
    OrderEvent.objects.bulk_create(
        OrderEvent(order=order, type=OrderEvent.Type.STAFF_NOTE, message=f"Note {i}") for i in range(events)
    )
    return order


@pytest.mark.parametrize("events", [3, 40])
def test_admin_order_page_makes_no_query_per_timeline_row(staff_client, policy, events, django_assert_max_num_queries):
    order = _order_with_events(events)
    url = reverse("admin:orders_order_change", args=[order.pk])
    staff_client.get(url)  # warm caches (content types, permissions)
    with django_assert_max_num_queries(45):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert f"Note {events - 1}" in response.content.decode()


@pytest.mark.parametrize("orders", [2, 30])
def test_admin_order_list_queries_do_not_grow_and_no_date_hierarchy_scan(
    staff_client, policy, orders, django_assert_max_num_queries
):
    for _ in range(orders):
        make_order(status="completed", payment_method="cash_courier")
    url = reverse("admin:orders_order_changelist")
    staff_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(url)
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert not any("DATE_TRUNC" in s.upper() or "DJANGO_DATE_TRUNC" in s.upper() for s in sql)
    assert sum("COUNT(" in s.upper() and 'FROM "orders_order"' in s for s in sql) == 1
    with django_assert_max_num_queries(20):
        staff_client.get(url)


def test_a_policy_change_shows_on_the_next_request(client, policy, settings):
    """The per-request memo never outlives its request (the signals are wired in ShopConfig.ready)."""
    settings.CATALOGUE_CACHE_SECONDS = 0
    assert policy.shop_name in client.get(reverse("shop:product_list")).content.decode()
    Policy.objects.filter(pk=1).update(shop_name="Renamed optics shop")
    assert "Renamed optics shop" in client.get(reverse("shop:product_list")).content.decode()
