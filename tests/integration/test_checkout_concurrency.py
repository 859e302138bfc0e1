"""Concurrent confirmations on a real PostgreSQL: one order per cart, never oversold.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_checkout .venv/bin/pytest
tests/integration/test_checkout_concurrency.py``. Each thread uses its own database connection
(Django's connections are per thread) and closes it when done.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from djmoney.money import Money

from orders.checkout import CheckoutError, checkout_token, order_confirm
from orders.models import Order, OrderEvent, OrderLine
from shop.cart import cart_lines
from shop.models import Cart, CartLine, Product
from tests.factories import ProductFactory
from tests.orders.checkout_support import contact_data, make_catalogue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _details(cat, *, email="anna@example.com", payment="cash_courier"):
    return {
        **contact_data(cat.moscow, phone="+79161234567", email=email),
        "delivery_method": cat.airmail.pk,
        "payment_method": payment,
        "no_marketing_inserts": False,
    }


def _run_at_once(jobs):
    """Start every job at the same moment (a barrier); return [(result, exception), ...]."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = (job(), None)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a confirmation hung"
    return results


def test_twenty_concurrent_confirmations_of_one_cart_create_exactly_one_order():
    cat = make_catalogue()
    product = ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=50)
    cart = Cart.objects.create(session_key="tab-session")
    CartLine.objects.create(cart=cart, product=product, quantity=2)
    details = _details(cat)
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)

    def confirm():
        return order_confirm(cart=Cart(pk=cart.pk), token=token, details=details, actor=None).pk

    results = _run_at_once([confirm] * 20)

    errors = [exc for _, exc in results if exc is not None]
    assert errors == []
    order_ids = {pk for pk, _ in results}
    assert len(order_ids) == 1
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.checkout_token == token
    assert OrderLine.objects.filter(order=order).count() == 1
    assert order.events.filter(type=OrderEvent.Type.PLACED).count() == 1
    assert Product.objects.get(pk=product.pk).stock == 48  # taken once
    assert CartLine.objects.filter(cart=cart).count() == 0


def test_fifty_customers_buying_the_last_ten_units_cash_on_delivery_sell_exactly_ten():
    cat = make_catalogue()
    product = ProductFactory(name="Limited edition scope", price=Money(Decimal("4990.00"), "RUB"), stock=10)
    jobs = []
    for i in range(50):
        cart = Cart.objects.create(session_key=f"customer-{i}")
        CartLine.objects.create(cart=cart, product=product, quantity=1)
        details = _details(cat, email=f"customer{i}@example.com")
        token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)

        def confirm(cart_id=cart.pk, token=token, details=details):
            return order_confirm(cart=Cart(pk=cart_id), token=token, details=details, actor=None).pk

        jobs.append(confirm)

    results = _run_at_once(jobs)

    placed = [pk for pk, exc in results if exc is None]
    refused = [exc for _, exc in results if exc is not None]
    assert len(placed) == 10
    assert len(refused) == 40
    assert all(isinstance(exc, CheckoutError) for exc in refused), refused[:3]
    assert all("not enough stock of “Limited edition scope”" in str(exc) for exc in refused)
    assert Product.objects.get(pk=product.pk).stock == 0
    assert Order.objects.count() == 10
    assert all(order.status == Order.Status.PROCESSING and order.stock_taken for order in Order.objects.all())
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == 10
    # The refused customers keep their carts; the ten buyers' carts are empty.
    assert CartLine.objects.count() == 40
