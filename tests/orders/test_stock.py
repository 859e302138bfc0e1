"""orders.stock: all-or-nothing stock taking and releasing (PAY-PREPAID-FIRST, SHIP-STOCKOUT input)."""

import pytest
from django.db import transaction

from orders.models import Order
from orders.stock import release_stock, take_stock
from shop.models import Product
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _order(*items):
    order = OrderFactory()
    for product, quantity in items:
        OrderLineFactory(order=order, product=product, quantity=quantity)
    return order


def _stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_take_stock_takes_every_line_and_records_an_event():
    a, b = ProductFactory(stock=5), ProductFactory(stock=3)
    order = _order((a, 2), (b, 3))
    with transaction.atomic():
        assert take_stock(order=order) == []
    assert (_stock(a), _stock(b)) == (3, 0)
    order.refresh_from_db()
    assert order.stock_taken is True
    assert order.events.filter(type="stock_taken").count() == 1


def test_take_stock_is_all_or_nothing_and_names_the_short_lines():
    a, b = ProductFactory(stock=5, name="Tripod"), ProductFactory(stock=1, name="Eyepiece 25mm")
    order = _order((a, 2), (b, 2))
    with transaction.atomic():
        short = take_stock(order=order)
    assert [line.product_name for line in short] == ["Eyepiece 25mm"]
    assert (_stock(a), _stock(b)) == (5, 1)
    assert Order.objects.get(pk=order.pk).stock_taken is False


def test_take_stock_counts_two_lines_of_the_same_product_together():
    a = ProductFactory(stock=3)
    order = _order((a, 2), (a, 2))
    with transaction.atomic():
        assert len(take_stock(order=order)) == 2
    assert _stock(a) == 3


def test_take_stock_twice_takes_once_and_release_puts_back_once():
    a = ProductFactory(stock=4)
    order = _order((a, 3))
    with transaction.atomic():
        take_stock(order=order)
        take_stock(order=order)
    assert _stock(a) == 1
    with transaction.atomic():
        release_stock(order=order)
        release_stock(order=order)
    assert _stock(a) == 4
    assert Order.objects.get(pk=order.pk).stock_taken is False
    assert order.events.filter(type="stock_released").count() == 1


def test_release_stock_of_an_order_whose_stock_was_never_taken_changes_nothing():
    a = ProductFactory(stock=4)
    order = _order((a, 3))
    with transaction.atomic():
        release_stock(order=order)
    assert _stock(a) == 4
    assert not order.events.filter(type="stock_released").exists()
