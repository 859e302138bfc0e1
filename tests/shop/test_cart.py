"""The cart pages: add, update, remove, the header summary, merging on login, and bad input."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from shop.models import Cart, CartLine
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def cart_content() -> dict[str, int]:
    """Every cart line in the database, as {product name: quantity}."""
    return {line.product.name: line.quantity for line in CartLine.objects.select_related("product")}


def add(client, product, quantity="1", **extra):
    return client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": quantity, **extra}, follow=True)


@pytest.fixture
def scope():
    return ProductFactory(name="Sturman 8x42", price=Money(Decimal("4990.00"), "RUB"), stock=10)


# --- happy paths -----------------------------------------------------------------------------
def test_add_to_cart_shows_line_and_header_summary(client, scope):
    response = add(client, scope, "2")

    assert response.status_code == 200
    page = response.content.decode()
    assert "“Sturman 8x42” is in your cart (quantity 2)." in page
    assert cart_content() == {"Sturman 8x42": 2}
    assert '<span class="cart-count">2 items</span>' in page
    assert '<span class="cart-total">RUB 9,980.00</span>' in page


def test_adding_again_adds_to_the_quantity(client, scope):
    add(client, scope, "2")
    add(client, scope, "3")

    assert cart_content() == {"Sturman 8x42": 5}


def test_add_returns_to_the_product_page_when_asked(client, scope):
    response = client.post(
        reverse("shop:cart_add"), {"product_id": scope.pk, "quantity": "1", "next": scope.get_absolute_url()}
    )

    assert response.status_code == 302
    assert response["Location"] == scope.get_absolute_url()


def test_add_ignores_a_next_address_on_another_site(client, scope):
    response = client.post(
        reverse("shop:cart_add"), {"product_id": scope.pk, "quantity": "1", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("shop:cart")


def test_update_quantity(client, scope):
    add(client, scope, "1")

    response = client.post(reverse("shop:cart_update"), {"product_id": scope.pk, "quantity": "4"}, follow=True)

    assert "Quantity of “Sturman 8x42” is now 4." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 4}


def test_remove_line(client, scope):
    other = ProductFactory(name="Cleaning kit")
    add(client, scope, "1")
    add(client, other, "1")

    response = client.post(reverse("shop:cart_remove"), {"product_id": scope.pk}, follow=True)

    assert "Removed from your cart." in response.content.decode()
    assert cart_content() == {"Cleaning kit": 1}


def test_cart_page_lists_lines_with_price_quantity_total_and_checkout(client, scope):
    other = ProductFactory(name="Cleaning kit", price=Money(Decimal("890.00"), "RUB"))
    add(client, scope, "2")
    add(client, other, "1")

    page = client.get(reverse("shop:cart")).content.decode()

    assert "Sturman 8x42" in page and "Cleaning kit" in page
    assert "RUB 4,990.00" in page  # the current unit price
    assert f'<label for="qty-{scope.pk}" class="visually-hidden">Quantity for Sturman 8x42</label>' in page
    assert ">Update</button>" in page
    assert ">Remove</button>" in page
    assert "Total (3 items)" in page
    assert "RUB 10,870.00" in page


def test_empty_cart_says_so_and_header_shows_zero_items(client):
    page = client.get(reverse("shop:cart")).content.decode()

    assert "Your cart is empty." in page
    assert '<span class="cart-count">0 items</span>' in page


def test_header_shows_cart_summary_on_every_page(client, scope):
    add(client, scope, "1")

    for url in (reverse("shop:product_list"), scope.get_absolute_url(), reverse("login")):
        page = client.get(url).content.decode()
        assert '<span class="cart-count">1 item</span>' in page, url
        assert '<span class="cart-total">RUB 4,990.00</span>' in page, url


def test_cart_page_flags_a_line_that_became_unavailable(client, scope):
    add(client, scope, "3")
    scope.stock = 2
    scope.save()

    page = client.get(reverse("shop:cart")).content.decode()

    assert "Only 2 left; please lower the quantity." in page


# --- bad input: a message, and nothing changes -------------------------------------------------
@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Quantity must be at least 1."),
        ("-3", "Quantity must be at least 1."),
        ("two", "Quantity must be a whole number."),
        ("1.5", "Quantity must be a whole number."),
        ("", "Quantity must be a whole number."),
        ("11", "Only 10 of “Sturman 8x42” in stock."),
    ],
)
def test_add_with_bad_quantity_changes_nothing(client, scope, quantity, message):
    add(client, scope, "1")

    response = add(client, scope, quantity)

    assert message in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 1}


def test_add_beyond_stock_counting_what_is_in_the_cart_changes_nothing(client, scope):
    add(client, scope, "8")

    response = add(client, scope, "3")

    assert "Only 10 of “Sturman 8x42” in stock." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 8}


def test_add_out_of_stock_product_changes_nothing(client, scope):
    sold_out = ProductFactory(name="Sold out scope", stock=0)
    add(client, scope, "1")

    response = add(client, sold_out, "1")

    assert "“Sold out scope” is out of stock." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 1}


def test_add_inactive_product_changes_nothing(client, scope):
    retired = ProductFactory(name="Retired binocular", is_active=False)
    add(client, scope, "1")

    response = add(client, retired, "1")

    assert "“Retired binocular” is no longer sold." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 1}


@pytest.mark.parametrize("product_id", ["999999", "abc", ""])
def test_add_unknown_product_changes_nothing(client, scope, product_id):
    add(client, scope, "1")

    response = client.post(reverse("shop:cart_add"), {"product_id": product_id, "quantity": "1"}, follow=True)

    assert "That product does not exist." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 1}


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Quantity must be at least 1."),
        ("-1", "Quantity must be at least 1."),
        ("lots", "Quantity must be a whole number."),
        ("11", "Only 10 of “Sturman 8x42” in stock."),
    ],
)
def test_update_with_bad_quantity_changes_nothing(client, scope, quantity, message):
    add(client, scope, "2")

    response = client.post(reverse("shop:cart_update"), {"product_id": scope.pk, "quantity": quantity}, follow=True)

    assert message in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 2}


def test_update_product_not_in_cart_changes_nothing(client, scope):
    other = ProductFactory(name="Tripod")
    add(client, scope, "2")

    response = client.post(reverse("shop:cart_update"), {"product_id": other.pk, "quantity": "1"}, follow=True)

    assert "“Tripod” is not in your cart." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 2}


def test_remove_product_not_in_cart_changes_nothing(client, scope):
    other = ProductFactory(name="Tripod")
    add(client, scope, "2")

    response = client.post(reverse("shop:cart_remove"), {"product_id": other.pk}, follow=True)

    assert "That product is not in your cart." in response.content.decode()
    assert cart_content() == {"Sturman 8x42": 2}


def test_cart_endpoints_refuse_get(client, scope):
    for name in ("shop:cart_add", "shop:cart_update", "shop:cart_remove"):
        assert client.get(reverse(name), {"product_id": scope.pk, "quantity": "1"}).status_code == 405
    assert cart_content() == {}


def test_forged_post_without_csrf_token_is_refused(scope):
    client = Client(enforce_csrf_checks=True)
    page = client.get(scope.get_absolute_url())  # a real visitor with a session and a CSRF cookie
    assert page.status_code == 200

    responses = [
        client.post(reverse("shop:cart_add"), {"product_id": scope.pk, "quantity": "1"}),
        client.post(reverse("shop:cart_update"), {"product_id": scope.pk, "quantity": "3"}),
        client.post(reverse("shop:cart_remove"), {"product_id": scope.pk}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert cart_content() == {}


def test_post_with_csrf_token_from_the_page_is_accepted(scope):
    """The same client as the forged-post test succeeds with the form's token: the refusal is the CSRF check."""
    client = Client(enforce_csrf_checks=True)
    client.get(scope.get_absolute_url())
    token = client.cookies["csrftoken"].value

    response = client.post(
        reverse("shop:cart_add"), {"product_id": scope.pk, "quantity": "1", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert cart_content() == {"Sturman 8x42": 1}


# --- merge on login ------------------------------------------------------------------------
def test_session_cart_merges_into_the_users_cart_on_login(client, scope):
    user = UserFactory(username="anna")
    tripod = ProductFactory(name="Tripod", stock=5)
    kit = ProductFactory(name="Cleaning kit", stock=5)
    user_cart = Cart.objects.create(user=user)
    CartLine.objects.create(cart=user_cart, product=scope, quantity=2)
    CartLine.objects.create(cart=user_cart, product=tripod, quantity=1)
    add(client, scope, "3")
    add(client, kit, "1")

    response = client.post(reverse("login"), {"username": "anna", "password": "correct-horse-battery"}, follow=True)

    assert response.status_code == 200
    assert Cart.objects.count() == 1
    page = client.get(reverse("shop:cart")).content.decode()
    assert "Total (7 items)" in page
    assert cart_content() == {"Sturman 8x42": 5, "Tripod": 1, "Cleaning kit": 1}


def test_session_cart_becomes_the_users_cart_when_they_had_none(client, scope):
    user = UserFactory(username="boris")
    add(client, scope, "2")

    client.post(reverse("login"), {"username": "boris", "password": "correct-horse-battery"})

    assert Cart.objects.get().user == user
    assert '<span class="cart-count">2 items</span>' in client.get(reverse("shop:cart")).content.decode()


def test_merge_caps_quantities_at_the_stock(client):
    user = UserFactory(username="vera")
    scarce = ProductFactory(name="Scarce scope", stock=3)
    CartLine.objects.create(cart=Cart.objects.create(user=user), product=scarce, quantity=2)
    add(client, scarce, "3")

    client.post(reverse("login"), {"username": "vera", "password": "correct-horse-battery"})

    assert cart_content() == {"Scarce scope": 3}


def test_cart_is_empty_again_after_logout(client, scope):
    UserFactory(username="gleb")
    client.post(reverse("login"), {"username": "gleb", "password": "correct-horse-battery"})
    add(client, scope, "1")

    client.post(reverse("logout"))

    assert '<span class="cart-count">0 items</span>' in client.get(reverse("shop:cart")).content.decode()
    assert cart_content() == {"Sturman 8x42": 1}  # kept for the user's next visit


# --- query counts: the same bound at two sizes, so an N+1 fails ------------------------------
@pytest.mark.parametrize("lines", [3, 30])
def test_cart_page_query_count_does_not_grow_with_lines(client, django_assert_max_num_queries, lines):
    for _ in range(lines):
        add(client, ProductFactory(stock=50), "2")

    # session, cart + lines + pictures, Policy + closures + delivery method (the promise), header cart (2),
    # and the discounts' Policy and discount rows (PAY-DISCOUNTS)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("shop:cart"))

    assert f"Total ({lines * 2} items)" in response.content.decode()


def test_cart_page_links_to_checkout(client, scope):
    add(client, scope, "1")

    page = client.get(reverse("shop:cart")).content.decode()

    assert f'<a href="{reverse("checkout:start")}" class="button">Checkout</a>' in page


def test_cart_page_flags_a_product_no_longer_sold(client, scope):
    add(client, scope, "1")
    scope.is_active = False
    scope.save()

    page = client.get(reverse("shop:cart")).content.decode()

    assert "This product is no longer sold; please remove it." in page
    assert "Some lines need your attention before checkout." in page
