"""PAY-DISCOUNTS usage limits on a real PostgreSQL: 20 customers race for the last use of a code.

Each thread confirms its own cart with the code, all at once (a barrier). The discount row is locked
at confirmation (``shop.locks.lock_discounts``, after the cart in the lock order) and its uses are
counted again under the lock: exactly one customer gets the last use; every other one is sent back
to the review page (``CheckoutChanged``) and no order of theirs exists.
"""

from decimal import Decimal

import pytest
from djmoney.money import Money

from orders.checkout import CheckoutChanged, checkout_token, order_confirm
from orders.models import Discount, Order, OrderDiscount
from shop.cart import cart_lines
from shop.models import Cart, CartLine
from tests.factories import ProductFactory
from tests.integration.test_checkout_concurrency import _details, _run_at_once
from tests.orders.checkout_support import make_catalogue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_pay_discounts_twenty_customers_race_for_the_last_use_of_a_code_exactly_one_gets_it():
    cat = make_catalogue()
    product = ProductFactory(name="Spotting scope", price=Money(Decimal("4990.00"), "RUB"), stock=100)
    discount = Discount.objects.create(name="Last use", code="LAST", kind="fixed", value=Decimal("500"), usage_limit=1)
    jobs = []
    for i in range(20):
        cart = Cart.objects.create(session_key=f"racer-{i}")
        CartLine.objects.create(cart=cart, product=product, quantity=1)
        details = {**_details(cat, email=f"racer{i}@example.com"), "discount_code": "LAST"}
        token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)

        def confirm(cart_id=cart.pk, token=token, details=details):
            return order_confirm(cart=Cart(pk=cart_id), token=token, details=details, actor=None).pk

        jobs.append(confirm)

    results = _run_at_once(jobs)

    placed = [pk for pk, exc in results if exc is None]
    refused = [exc for _, exc in results if exc is not None]
    assert len(placed) == 1, refused[:3]
    assert len(refused) == 19 and all(isinstance(exc, CheckoutChanged) for exc in refused), refused[:3]
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.discount == Money(Decimal("500.00"), "RUB")
    assert OrderDiscount.objects.filter(discount=discount).count() == 1
    assert CartLine.objects.count() == 19  # the others keep their carts and review again
