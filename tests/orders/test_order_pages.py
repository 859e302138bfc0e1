"""The customer's order pages: My orders, the order page, the invoice, who may see them, query counts."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from orders import events
from orders.access import order_link
from orders.models import Order
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory
from tests.orders.checkout_support import checkout_to_review, guest_cart, make_catalogue

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def _order_urls(order):
    return [
        reverse("orders:detail", kwargs={"number": order.number}),
        reverse("orders:placed", kwargs={"number": order.number}),
        reverse("orders:invoice", kwargs={"number": order.number}),
    ]


def _order_with_lines(n_lines: int, **kwargs):
    order = OrderFactory(**kwargs)
    for i in range(n_lines):
        OrderLineFactory(order=order, product=ProductFactory(name=f"Lens {i}"), quantity=1)
    events.order_placed(order=order)
    return order


# --- access: 404 for everyone but the owner, on every order URL -------------------------------
def test_every_order_url_is_404_for_other_users_and_anonymous_visitors(client):
    owner, stranger = UserFactory(), UserFactory()
    order = _order_with_lines(1, user=owner)
    for url in _order_urls(order):
        assert client.get(url).status_code == 404, url
    client.force_login(stranger)
    for url in _order_urls(order):
        assert client.get(url).status_code == 404, url
    # A signed key for another order opens nothing.
    other = _order_with_lines(1, user=stranger)
    key = order_link(other, absolute=False).split("?key=")[1]
    client.logout()
    for url in _order_urls(order):
        assert client.get(f"{url}?key={key}").status_code == 404, url
    assert client.get(reverse("orders:detail", kwargs={"number": "RX-NONE-NONE"})).status_code == 404


def test_owner_sees_every_order_url_and_the_invoice_is_a_pdf(client):
    owner = UserFactory()
    order = _order_with_lines(2, user=owner)
    client.force_login(owner)
    detail, placed, invoice = _order_urls(order)
    assert client.get(detail).status_code == 200
    assert client.get(placed).status_code == 200
    response = client.get(invoice)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"invoice-{order.number}.pdf" in response["Content-Disposition"]


def test_guest_with_the_signed_link_sees_the_order_and_its_invoice(client):
    order = _order_with_lines(1)
    response = client.get(order_link(order, absolute=False))
    assert response.status_code == 200
    assert order.number in response.content.decode()
    # The valid link granted this browser the order's other pages too.
    assert client.get(reverse("orders:invoice", kwargs={"number": order.number})).status_code == 200


def test_guest_who_just_ordered_sees_the_order_page_without_a_link(client):
    cat = make_catalogue()
    guest_cart(client, [(ProductFactory(), 1)])
    review = checkout_to_review(client, region=cat.moscow, method=cat.airmail)
    from tests.orders.checkout_support import review_token

    client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    order = Order.objects.get()
    assert client.get(order.get_absolute_url()).status_code == 200
    client.cookies.clear()
    assert client.get(order.get_absolute_url()).status_code == 404


# --- My orders --------------------------------------------------------------------------------
def test_my_orders_requires_login(client):
    response = client.get(reverse("orders:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_my_orders_lists_only_my_orders_newest_first_with_status_in_words(client):
    me, other = UserFactory(), UserFactory()
    old = OrderFactory(user=me, total=Money(Decimal("1500.00"), "RUB"))
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    new = OrderFactory(user=me, status=Order.Status.AWAITING_PAYMENT, payment_method="paypal")
    theirs = OrderFactory(user=other)
    client.force_login(me)
    page = client.get(reverse("orders:list")).content.decode()
    assert page.index(new.number) < page.index(old.number)
    assert theirs.number not in page
    assert "Awaiting payment" in page and "Processing" in page
    assert "RUB 1,500.00" in page


# --- the order page ---------------------------------------------------------------------------
def test_order_page_shows_status_lines_totals_address_methods_dates_and_timeline(client):
    owner = UserFactory()
    order = _order_with_lines(2, user=owner, no_marketing_inserts=True)
    events.stock_taken(order=order, lines=[("SKU", 1)])  # staff-only event
    client.force_login(owner)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'Status: <span class="status order-status">Processing</span>' in page
    assert "Lens 0" in page and "Lens 1" in page
    assert "RUB 5,340.00" in page and "RUB 350.00" in page
    assert "12 Lenina street, flat 5" in page and "101000 Moscow" in page
    assert "International air mail" in page and "Cash to the courier" in page
    assert "No marketing inserts in the parcel." in page
    assert "Processing: 1–3 business days" in page and 'class="delivery-window"' in page
    assert f"Order {order.number} placed" in page
    assert "Stock reserved" not in page  # not customer-visible
    assert "Download invoice (PDF)" in page
    assert "Pay with PayPal" not in page


def test_order_page_dates_count_from_confirmation_for_cod(client):
    owner = UserFactory()
    order = _order_with_lines(1, user=owner)
    friday = dt.datetime(2026, 3, 13, 14, 0, tzinfo=MSK)
    Order.objects.filter(pk=order.pk).update(created_at=friday)
    client.force_login(owner)
    page = client.get(order.get_absolute_url()).content.decode()
    # Fri 13 Mar 14:00 (open) + 1..3 business days → 16–18 Mar; + 3+7 / 3+14 → 27 Mar – 7 Apr.
    assert "16 Mar 2026 – 18 Mar 2026" in page
    assert "27 Mar 2026 – 7 Apr 2026" in page


def test_awaiting_payment_paypal_order_offers_pay_with_paypal(client):
    owner = UserFactory()
    order = _order_with_lines(1, user=owner, status=Order.Status.AWAITING_PAYMENT, payment_method="paypal")
    client.force_login(owner)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Pay with PayPal" in page
    assert reverse("payments:start", kwargs={"number": order.number}) in page
    assert "Estimated as if paid today" in page


# --- query counts (two sizes, one bound) ------------------------------------------------------
@pytest.mark.parametrize("n_lines", [1, 30])
def test_order_detail_query_count_does_not_grow_with_lines(client, django_assert_max_num_queries, n_lines):
    owner = UserFactory()
    order = _order_with_lines(n_lines, user=owner)
    client.force_login(owner)
    # 19: +2 the returns and claims section; +1 the adjustments behind the amount the courier collects (#12).
    with django_assert_max_num_queries(19):
        response = client.get(order.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("Lens ") >= n_lines


@pytest.mark.parametrize("n_orders", [2, 25])
def test_my_orders_query_count_does_not_grow_with_orders(client, django_assert_max_num_queries, n_orders):
    owner = UserFactory()
    for _ in range(n_orders):
        _order_with_lines(2, user=owner)
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("orders:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("n_lines", [1, 20])
def test_checkout_review_query_count_does_not_grow_with_lines(client, django_assert_max_num_queries, n_lines):
    cat = make_catalogue()
    guest_cart(client, [(ProductFactory(stock=5), 1) for _ in range(n_lines)])
    checkout_to_review(client, region=cat.moscow, method=cat.airmail, payment="paypal")
    with django_assert_max_num_queries(16):  # 15, plus the lines' pictures (one prefetch)
        response = client.get(reverse("checkout:review"))
    assert response.status_code == 200
    assert response.content.decode().count("SKU ") >= n_lines


def test_order_page_lists_payments_and_refunds(client):
    from payments.models import Payment, Refund

    owner = UserFactory()
    order = _order_with_lines(1, user=owner, status=Order.Status.CANCELLED, payment_method="paypal")
    payment = Payment.objects.create(
        order=order,
        method="paypal",
        gateway="paypal",
        status="completed",
        amount=order.total,
        captured_amount=order.total,
        refunded_amount=order.total,
        confirmed_at=timezone.now(),
    )
    Refund.objects.create(
        order=order, payment=payment, amount=order.total, status="sent", way="paypal", idempotency_key="r-1"
    )
    client.force_login(owner)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "<h2>Payments</h2>" in page and "Completed" in page
    assert "<h2>Refunds</h2>" in page and "PayPal / card refund" in page and "Sent" in page
    assert "<h2>When</h2>" not in page  # a cancelled order has no dates to expect
