"""Issue #14 (pages): query counts pinned at two sizes for "Confirm order", the checkout review, the
order page, the admin order list and the work queue, so an N+1 fails here rather than in the bench."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from orders.models import Order, OrderEvent
from shipping.models import FulfilmentPartner
from shop.admin_tools import InUseRelatedFilter
from shop.models import Closure, Product
from tests.factories import ProductFactory, UserFactory
from tests.orders.checkout_support import checkout_to_review, guest_cart, make_catalogue, review_token
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db

T = OrderEvent.Type


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


def _reviewed_cart(client, lines: int):
    """A guest's cart of ``lines`` products, walked to the review page (cash to the courier)."""
    cat = make_catalogue()
    FulfilmentPartner.objects.create(name="Courier partner", email="partner@example.com", is_default=True)
    products = [ProductFactory(price=Money(Decimal("500.00"), "RUB"), stock=20) for _ in range(lines)]
    guest_cart(client, [(product, 1) for product in products])
    return products, checkout_to_review(client, region=cat.moscow, method=cat.airmail)


@pytest.mark.parametrize("lines", [1, 5])
def test_confirm_order_makes_the_same_queries_for_one_line_and_five(
    client, policy, lines, django_assert_max_num_queries
):
    """Lines, stock and events are written in batches: no query per line; the order is whole."""
    products, review = _reviewed_cart(client, lines)
    # 43 here (SQLite counts the savepoints); 37 on PostgreSQL as the bench counts them (51 before).
    # The acknowledgement e-mail reads the lines it shows through the one batched e-mail path
    # (orders.notifications.order_emails_queue), the path the periodic sweeps use for hundreds.
    with django_assert_max_num_queries(43):
        response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.PROCESSING and order.stock_taken and order.ready_at is not None
    assert order.lines.count() == lines
    assert all(p.stock == 19 for p in Product.objects.filter(pk__in=[p.pk for p in products]))
    types = list(order.events.order_by("created_at", "pk").values_list("type", flat=True))
    assert types == [T.STOCK_TAKEN, T.PLACED, T.EMAIL_QUEUED, T.READY, T.PARTNER_NOTIFIED]


def test_confirm_order_events_are_not_written_when_the_order_is_refused(client, policy):
    """The batched events go with the transaction: stock gone after review writes nothing at all."""
    products, review = _reviewed_cart(client, 2)
    Product.objects.filter(pk=products[1].pk).update(stock=0)
    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    assert response.status_code == 302 and not Order.objects.exists()
    assert not OrderEvent.objects.exists()
    assert Product.objects.get(pk=products[0].pk).stock == 20


def test_a_closure_added_in_a_request_is_seen_by_the_rest_of_it(policy):
    """The closures are read once per request (shop.calendar); a Closure saved meanwhile is read again."""
    import datetime as dt

    from shop.calendar import BusinessCalendar
    from shop.models import policy_memo_end, policy_memo_start

    policy_memo_start()
    try:
        assert BusinessCalendar.current().closures == frozenset()
        day = dt.date(2031, 3, 4)
        Closure.objects.create(date=day, reason="Stocktaking")
        assert BusinessCalendar.current().closures == {day}
        Closure.objects.get(date=day).delete()
        assert BusinessCalendar.current().closures == frozenset()
    finally:
        policy_memo_end()


@pytest.mark.parametrize("lines", [1, 5])
def test_checkout_review_reads_the_cart_once_and_queries_do_not_grow(
    client, policy, lines, django_assert_max_num_queries
):
    """The step and the header's cart summary share one read of the cart and its lines."""
    _reviewed_cart(client, lines)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("checkout:review"))
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum('FROM "shop_cart"' in q for q in sql) == 1 and sum('FROM "shop_cartline"' in q for q in sql) == 1
    with django_assert_max_num_queries(14):
        client.get(reverse("checkout:review"))


@pytest.mark.parametrize("lines", [1, 5])
def test_order_page_queries_do_not_grow_with_lines(client, policy, lines, django_assert_max_num_queries):
    _products, review = _reviewed_cart(client, lines)
    client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    order = Order.objects.get()
    url = reverse("orders:detail", args=[order.number])
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200 and order.number in response.content.decode()


@pytest.mark.parametrize("orders", [2, 30])
def test_work_queue_queries_do_not_grow_with_the_queue(staff_client, policy, orders, django_assert_max_num_queries):
    for _ in range(orders):
        make_order(status="processing", payment_method="cash_courier")
    url = reverse("admin:shipping_workqueueorder_changelist")
    staff_client.get(url)
    with django_assert_max_num_queries(8):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="action-select"') == orders


def test_admin_order_list_row_checkbox_is_the_same_markup(staff_client, policy):
    """The quick row checkbox (shop.admin_tools) renders what Django's widget renders."""
    from django.contrib import admin

    order = make_order(status="completed", payment_method="cash_courier")
    response = staff_client.get(reverse("admin:orders_order_changelist"))
    widget = admin.ModelAdmin.action_checkbox(admin.site._registry[Order], order)
    assert widget in response.content.decode()


def test_admin_region_filter_lists_only_regions_orders_went_to(staff_client, policy):
    cat = make_catalogue()
    for region in (cat.kaliningrad, cat.abroad):  # one region alone would hide the filter
        make_order(status="completed", payment_method="cash_courier", region=region)
    response = staff_client.get(reverse("admin:orders_order_changelist"))
    changelist = response.context["cl"]
    (spec,) = [spec for spec in changelist.filter_specs if isinstance(spec, InUseRelatedFilter)]
    choices = [choice["display"] for choice in spec.choices(changelist)]
    assert choices[1:] == ["Atlantis", "Kaliningrad Oblast"]  # after "All"; Moscow had no order


def test_order_list_count_is_exact_below_the_estimate_threshold(staff_client, policy):
    """EstimatedCountPaginator counts exactly unless an unfiltered table holds ESTIMATE_FROM rows or more."""
    for _ in range(3):
        make_order(status="completed", payment_method="cash_courier")
    response = staff_client.get(reverse("admin:orders_order_changelist"))
    assert response.context["cl"].result_count == 3
    response = staff_client.get(reverse("admin:orders_order_changelist") + "?status__exact=completed")
    assert response.context["cl"].result_count == 3
