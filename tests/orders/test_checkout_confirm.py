"""Confirming an order: ORD-PRICE-LOCK, idempotency, stock (PAY-PREPAID-FIRST), SHIP-WITHIN-2BD, ORD-ACK."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from djmoney.money import Money

from orders.checkout import CheckoutChanged, CheckoutError, checkout_token, order_confirm
from orders.models import Order, OrderEvent
from shop import hooks
from shop.cart import cart_lines
from shop.models import CartLine, Email, Product
from tests.factories import ProductFactory, UserFactory
from tests.orders.checkout_support import (
    checkout_to_review,
    contact_data,
    guest_cart,
    make_catalogue,
    review_token,
    user_cart,
)

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def cat():
    return make_catalogue()


@pytest.fixture
def binocular():
    return ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=20)


@pytest.fixture
def confirmed_hooks():
    seen = []
    hooks.register("order_confirmed", seen.append)
    yield seen
    hooks._receivers["order_confirmed"].remove(seen.append)


def _details(region, method, payment="cash_courier", **extra):
    return {
        **contact_data(region, phone="+79161234567"),
        "delivery_method": method.pk,
        "payment_method": payment,
        "no_marketing_inserts": False,
        **extra,
    }


# --- ORD-PRICE-LOCK ---------------------------------------------------------------------------
def test_ord_price_lock_confirmed_order_keeps_the_prices_shown_whatever_happens_later(client, cat, binocular):
    guest_cart(client, [(binocular, 2)])
    review = checkout_to_review(client, region=cat.moscow, method=cat.express)
    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:placed", kwargs={"number": order.number})
    assert order.subtotal == Money(Decimal("9980.00"), "RUB")
    assert order.delivery_cost == Money(Decimal("1200.00"), "RUB")
    assert order.total == Money(Decimal("11180.00"), "RUB")
    assert order.discount == Money(Decimal("0"), "RUB")
    line = order.lines.get()
    assert (line.unit_price, line.quantity, line.line_total) == (
        Money(Decimal("4990.00"), "RUB"),
        2,
        Money(Decimal("9980.00"), "RUB"),
    )
    assert (line.product_name, line.sku) == ("Binocular 10x50", binocular.sku)

    # Staff raise the price and the delivery rate afterwards: the order does not move.
    binocular.price = Money(Decimal("6990.00"), "RUB")
    binocular.name = "Binocular 10x50 (new model)"
    binocular.save()
    cat.moscow.rates.filter(method=cat.express).update(price=Money(Decimal("2500.00"), "RUB"))
    order.refresh_from_db()
    assert order.total == Money(Decimal("11180.00"), "RUB")
    page = client.get(order.get_absolute_url()).content.decode()
    assert "RUB 4,990.00" in page and "RUB 11,180.00" in page
    assert "6,990" not in page and "new model" not in page


def test_ord_price_lock_price_change_between_review_and_confirm_shows_review_again(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    review = checkout_to_review(client, region=cat.moscow, method=cat.airmail)
    old_token = review_token(review)
    binocular.price = Money(Decimal("5490.00"), "RUB")
    binocular.save()

    response = client.post(reverse("checkout:confirm"), {"token": old_token})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The price of “Binocular 10x50” changed from RUB 4,990.00 to RUB 5,490.00." in page
    assert 'class="highlight changed"' in page
    assert "RUB 5,490.00" in page and "Confirm order" in page
    assert Order.objects.count() == 0
    assert binocular.__class__.objects.get(pk=binocular.pk).stock == 20

    # Confirming the page shown now orders at the new price.
    new_token = review_token(response)
    assert new_token != old_token
    client.post(reverse("checkout:confirm"), {"token": new_token})
    assert Order.objects.get().total == Money(Decimal("5840.00"), "RUB")


def test_ord_price_lock_quantity_changed_in_another_tab_is_shown_before_ordering(client, cat, binocular):
    cart = guest_cart(client, [(binocular, 1)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    CartLine.objects.filter(cart=cart).update(quantity=3)
    response = client.post(reverse("checkout:confirm"), {"token": token})
    assert response.status_code == 409
    assert "The quantity of “Binocular 10x50” changed from 1 to 3." in response.content.decode()
    assert Order.objects.count() == 0


def test_ord_price_lock_details_changed_in_another_tab_need_a_new_review(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    client.post(reverse("checkout:start"), contact_data(cat.moscow, address="99 Tverskaya street"))
    response = client.post(reverse("checkout:confirm"), {"token": token})
    assert response.status_code == 409
    assert "Your cart changed since you reviewed it" in response.content.decode()
    assert Order.objects.count() == 0


def test_cart_emptied_in_another_tab_is_refused_with_a_clear_message(client, cat, binocular):
    cart = guest_cart(client, [(binocular, 1)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    cart.lines.all().delete()
    response = client.post(reverse("checkout:confirm"), {"token": token}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("shop:cart")
    assert "Your cart is empty" in response.content.decode()
    assert Order.objects.count() == 0


def test_forged_token_creates_no_order(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    checkout_to_review(client, region=cat.moscow, method=cat.airmail)
    response = client.post(reverse("checkout:confirm"), {"token": "0" * 64})
    assert response.status_code == 409
    assert Order.objects.count() == 0
    response = client.post(reverse("checkout:confirm"), {})
    assert response.status_code == 409
    assert Order.objects.count() == 0


# --- idempotency ------------------------------------------------------------------------------
def test_double_submit_creates_one_order(client, cat, binocular):
    guest_cart(client, [(binocular, 2)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    first = client.post(reverse("checkout:confirm"), {"token": token})
    second = client.post(reverse("checkout:confirm"), {"token": token})
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert Product.objects.get(pk=binocular.pk).stock == 18  # taken once
    assert OrderEvent.objects.filter(type="placed").count() == 1


def test_order_confirm_service_is_idempotent_for_one_token(cat, binocular):
    user = UserFactory()
    cart = user_cart(user, [(binocular, 1)])
    details = _details(cat.moscow, cat.airmail)
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
    first = order_confirm(cart=cart, token=token, details=details, actor=user)
    again = order_confirm(cart=cart, token=token, details=details, actor=user)
    assert first.pk == again.pk
    assert first.user == user
    assert Order.objects.count() == 1


def test_order_confirm_service_refuses_a_stale_token(cat, binocular):
    cart = user_cart(UserFactory(), [(binocular, 1)])
    details = _details(cat.moscow, cat.airmail)
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
    Product.objects.filter(pk=binocular.pk).update(price=Decimal("1.00"))
    with pytest.raises(CheckoutChanged):
        order_confirm(cart=cart, token=token, details=details, actor=None)
    assert Order.objects.count() == 0


# --- cash/card on delivery --------------------------------------------------------------------
def test_ship_within_2bd_cod_order_is_processing_with_stock_taken_and_ship_by(
    client, cat, binocular, confirmed_hooks, django_capture_on_commit_callbacks
):
    """Cash to the courier: PROCESSING at once, stock taken, ship_by = 2 business days (SHIP-WITHIN-2BD)."""
    guest_cart(client, [(binocular, 3)])
    friday = dt.datetime(2026, 3, 13, 14, 0, tzinfo=MSK)
    with time_machine.travel(friday, tick=False):
        token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("checkout:confirm"), {"token": token})
        # (the session was made on the travelled clock: read the page before it expires)
        page = client.get(response["Location"]).content.decode()
    order = Order.objects.get()
    assert order.status == Order.Status.PROCESSING
    assert order.stock_taken is True
    assert Product.objects.get(pk=binocular.pk).stock == 17
    assert order.ship_by == dt.datetime(2026, 3, 17, 14, 0, tzinfo=MSK)  # Friday + 2 → Tuesday
    assert order.phone == "+79161234567"
    assert order.user is None and order.email == "anna@example.com"
    assert list(order.events.values_list("type", flat=True)).count("placed") == 1
    assert confirmed_hooks == [order.pk]
    # ORD-ACK: the acknowledgement is queued and sent after commit.
    assert Email.objects.filter(key=f"order-ack:{order.pk}").exists()
    assert any(order.number in message.subject or order.number in message.body for message in mail.outbox)
    # The cart is emptied; the guest lands on the order page, which they may see.
    assert CartLine.objects.count() == 0
    assert "Thank you! Your order" in page and order.number in page
    assert "Processing" in page


def test_cod_refused_when_stock_ran_out_naming_the_product_and_nothing_is_created(client, cat, binocular):
    scope = ProductFactory(name="Refractor 102mm", stock=5)
    cart = guest_cart(client, [(binocular, 1), (scope, 2)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    Product.objects.filter(pk=scope.pk).update(stock=1)  # sold to someone else meanwhile
    response = client.post(reverse("checkout:confirm"), {"token": token}, follow=True)
    page = response.content.decode()
    assert "not enough stock of “Refractor 102mm”" in page
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=binocular.pk).stock == 20
    assert Product.objects.get(pk=scope.pk).stock == 1
    assert cart.lines.count() == 2


# --- prepaid ----------------------------------------------------------------------------------
def test_pay_prepaid_first_bank_transfer_order_awaits_payment_and_takes_no_stock(
    client, cat, binocular, django_capture_on_commit_callbacks
):
    guest_cart(client, [(binocular, 2)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail, payment="bank_transfer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkout:confirm"), {"token": token})
    order = Order.objects.get()
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.stock_taken is False and order.ship_by is None
    assert Product.objects.get(pk=binocular.pk).stock == 20
    assert not order.events.filter(type="stock_taken").exists()
    assert response["Location"] == reverse("orders:placed", kwargs={"number": order.number})
    # Bank transfer is acknowledged at once (the invoice tells how to pay).
    assert Email.objects.filter(key=f"order-ack:{order.pk}").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Awaiting payment" in page


def test_pay_prepaid_first_paypal_order_goes_to_payment_and_is_not_acknowledged_yet(
    client, cat, binocular, confirmed_hooks, django_capture_on_commit_callbacks
):
    guest_cart(client, [(binocular, 1)])
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail, payment="paypal"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("checkout:confirm"), {"token": token})
    order = Order.objects.get()
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert Product.objects.get(pk=binocular.pk).stock == 20
    assert response.status_code == 307  # the POST goes on to the payments app, which calls PayPal
    assert response["Location"] == reverse("payments:start", kwargs={"number": order.number})
    assert not Email.objects.filter(key=f"order-ack:{order.pk}").exists()
    assert confirmed_hooks == [order.pk]


def test_logged_in_customer_order_belongs_to_them_and_checkout_token_is_stored(client, cat, binocular):
    user = UserFactory()
    user_cart(user, [(binocular, 1)])
    client.force_login(user)
    token = review_token(checkout_to_review(client, region=cat.moscow, method=cat.airmail))
    client.post(reverse("checkout:confirm"), {"token": token})
    order = Order.objects.get()
    assert order.user == user
    assert order.checkout_token == token
    assert order.events.get(type="placed").actor == user


def test_confirm_refuses_cod_when_threshold_reached_after_review(cat):
    """PAY-PREPAY-THRESHOLD is checked again at confirmation (the Policy may change in between)."""
    from shop.models import Policy

    item = ProductFactory(price=Money(Decimal("1000.00"), "RUB"))
    cart = user_cart(UserFactory(), [(item, 2)])
    details = _details(cat.moscow, cat.airmail)
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
    policy = Policy.load()
    policy.prepay_threshold_items = 2
    policy.save()
    with pytest.raises(CheckoutError, match="orders of 2 or more items must be prepaid"):
        order_confirm(cart=cart, token=token, details=details, actor=None)
    assert Order.objects.count() == 0


def test_ship_within_2bd_cod_order_confirmed_after_15_00_counts_from_next_opening(cat, binocular):
    """Friday 15:01 is outside business hours: the clock starts Monday 09:00, so ship by Wednesday 09:00."""
    cart = user_cart(UserFactory(), [(binocular, 1)])
    details = _details(cat.moscow, cat.airmail)
    with time_machine.travel(dt.datetime(2026, 3, 13, 15, 1, tzinfo=MSK), tick=False):
        token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
        order = order_confirm(cart=cart, token=token, details=details, actor=None)
    assert order.ship_by == dt.datetime(2026, 3, 18, 9, 0, tzinfo=MSK)


def test_pay_cod_restrict_confirm_refuses_cod_for_a_restricted_customer(cat, binocular):
    """PAY-COD-RESTRICT holds at confirmation too: a tampered session cannot pay on delivery."""
    from orders.models import CustomerStanding

    CustomerStanding.objects.create(email="anna@example.com", cod_allowed=False, cod_reason="Staff marked misconduct.")
    cart = user_cart(UserFactory(), [(binocular, 1)])
    details = _details(cat.moscow, cat.airmail, payment="card_courier")
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
    with pytest.raises(CheckoutError, match="Card to the courier is not available: Staff marked misconduct."):
        order_confirm(cart=cart, token=token, details=details, actor=None)
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=binocular.pk).stock == 20
