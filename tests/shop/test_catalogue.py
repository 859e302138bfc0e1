"""The catalogue: list, filter, search, pagination, product page, stock states, ORD-DISCLAIMER."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from shop.models import PaymentMethod
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def names_on(response) -> list[str]:
    return [product.name for product in response.context["products"]]


def test_product_list_shows_active_products_with_price_and_stock(client):
    ProductFactory(name="Sturman 8x42", price=Money(Decimal("12990.00"), "RUB"), stock=14)

    response = client.get(reverse("shop:product_list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sturman 8x42" in page
    assert "RUB 12,990.00" in page
    assert "In stock" in page


def test_inactive_products_are_hidden_from_the_list_and_search(client):
    ProductFactory(name="Active scope")
    ProductFactory(name="Retired scope", is_active=False)

    assert names_on(client.get(reverse("shop:product_list"))) == ["Active scope"]
    assert names_on(client.get(reverse("shop:product_list"), {"q": "scope"})) == ["Active scope"]


def test_inactive_product_page_is_404(client):
    retired = ProductFactory(is_active=False)

    assert client.get(retired.get_absolute_url()).status_code == 404


def test_unknown_product_page_is_404(client):
    assert client.get(reverse("shop:product_detail", kwargs={"slug": "no-such-thing"})).status_code == 404


def test_filter_by_category(client):
    binoculars = CategoryFactory(name="Binoculars", slug="binoculars")
    telescopes = CategoryFactory(name="Telescopes", slug="telescopes")
    ProductFactory(name="Sturman 8x42", category=binoculars)
    ProductFactory(name="Heritage 130P", category=telescopes)

    response = client.get(reverse("shop:product_list"), {"category": "telescopes"})

    assert names_on(response) == ["Heritage 130P"]
    page = response.content.decode()
    assert "<h1>Telescopes</h1>" in page
    assert '<a href="?category=telescopes" aria-current="page">Telescopes</a>' in page


def test_unknown_category_is_404(client):
    assert client.get(reverse("shop:product_list"), {"category": "nope"}).status_code == 404


def test_search_by_name_is_case_insensitive(client):
    ProductFactory(name="Sky-Watcher Heritage 130P")
    ProductFactory(name="Sturman 8x42")

    response = client.get(reverse("shop:product_list"), {"q": "heritage"})

    assert names_on(response) == ["Sky-Watcher Heritage 130P"]
    assert "1 result for “heritage”." in response.content.decode()


def test_search_within_a_category(client):
    binoculars = CategoryFactory(slug="binoculars")
    telescopes = CategoryFactory(slug="telescopes")
    ProductFactory(name="Marine 7x50", category=binoculars)
    ProductFactory(name="Marine telescope", category=telescopes)

    response = client.get(reverse("shop:product_list"), {"q": "marine", "category": "binoculars"})

    assert names_on(response) == ["Marine 7x50"]


def test_search_with_no_match_says_so(client):
    ProductFactory(name="Sturman 8x42")

    response = client.get(reverse("shop:product_list"), {"q": "microscope"})

    assert names_on(response) == []
    assert "No products match “microscope”." in response.content.decode()


def test_pagination_twelve_per_page_keeps_the_search(client):
    for number in range(15):
        ProductFactory(name=f"Binocular {number:02d}")

    first = client.get(reverse("shop:product_list"), {"q": "binocular"})
    second = client.get(reverse("shop:product_list"), {"q": "binocular", "page": "2"})

    assert len(names_on(first)) == 12
    assert names_on(second) == ["Binocular 12", "Binocular 13", "Binocular 14"]
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?q=binocular&amp;page=2" rel="next"' in first.content.decode()


def test_pagination_out_of_range_or_garbage_page_shows_a_page(client):
    for number in range(15):
        ProductFactory(name=f"Binocular {number:02d}")

    assert client.get(reverse("shop:product_list"), {"page": "99"}).context["page"].number == 2
    assert client.get(reverse("shop:product_list"), {"page": "x"}).context["page"].number == 1


def test_product_page_shows_price_description_warranty_and_payment_methods(client):
    product = ProductFactory(
        name="Celestron NexStar 6SE",
        description="A 150 mm Schmidt-Cassegrain on a GoTo mount.",
        price=Money(Decimal("139990.00"), "RUB"),
        warranty_months=36,
        payment_methods=[PaymentMethod.PAYPAL, PaymentMethod.BANK_TRANSFER],
    )

    page = client.get(product.get_absolute_url()).content.decode()

    assert "<h1>Celestron NexStar 6SE</h1>" in page
    assert "RUB 139,990.00" in page
    assert "A 150 mm Schmidt-Cassegrain on a GoTo mount." in page
    assert "36 months" in page
    assert "<li>PayPal</li><li>Bank transfer</li>" in page
    assert "Cash to the courier" not in page


def test_product_page_without_warranty_states_the_policy_default(client, policy):
    product = ProductFactory(warranty_months=None)

    page = client.get(product.get_absolute_url()).content.decode()

    assert f"defects may be claimed within {policy.default_warranty_months} months" in page


@pytest.mark.parametrize(
    ("stock", "text", "css"),
    [
        (50, "In stock", "stock-in"),
        (6, "In stock", "stock-in"),
        (5, "Only 5 left", "stock-low"),
        (1, "Only 1 left", "stock-low"),
        (0, "Out of stock", "stock-out"),
    ],
)
def test_stock_status_text(client, stock, text, css):
    product = ProductFactory(stock=stock)

    page = client.get(product.get_absolute_url()).content.decode()

    assert f'<p class="{css}" id="stock-status">{text}</p>' in page
    assert f'<p class="{css}">{text}</p>' in client.get(reverse("shop:product_list")).content.decode()


def test_product_page_has_labelled_quantity_and_add_to_cart_button(client):
    product = ProductFactory(stock=7)

    page = client.get(product.get_absolute_url()).content.decode()

    assert '<label for="quantity">Quantity</label>' in page
    assert 'id="quantity" name="quantity" value="1" min="1" max="7"' in page
    assert '<button type="submit">Add to cart</button>' in page


def test_out_of_stock_product_has_add_to_cart_disabled(client):
    product = ProductFactory(stock=0)

    page = client.get(product.get_absolute_url()).content.decode()

    assert "Out of stock" in page
    assert '<button type="submit" disabled aria-describedby="stock-status">Add to cart</button>' in page


def test_ord_disclaimer_on_product_page_with_contact_link(client, policy):
    """ORD-DISCLAIMER: pictures and descriptions are for reference; questions are invited before ordering."""
    policy.shop_email = "questions@rusoptics.example"
    policy.save()
    product = ProductFactory(name="Sturman 8x42")

    page = client.get(product.get_absolute_url()).content.decode()

    assert "Pictures and descriptions are for reference only" in page
    assert "Please ask us before ordering" in page
    assert 'href="mailto:questions@rusoptics.example?subject=Sturman%208x42' in page


# --- query counts: the same bound at two sizes, so an N+1 fails ------------------------------
@pytest.mark.parametrize("products", [3, 30])
def test_product_list_query_count_does_not_grow_with_products(client, django_assert_max_num_queries, products):
    categories = [CategoryFactory(), CategoryFactory()]
    for number in range(products):
        ProductFactory(category=categories[number % 2])
    client.get(reverse("shop:product_list"))  # the Policy row exists from here on

    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:product_list"))

    assert len(response.context["products"]) == min(products, 12)


@pytest.mark.parametrize("products", [3, 30])
def test_product_list_query_count_with_a_cart(client, policy, django_assert_max_num_queries, products):
    for _ in range(products):
        client.post(reverse("shop:cart_add"), {"product_id": ProductFactory().pk, "quantity": "1"})

    # 7 before the pictures, plus one query for the page's pictures (prefetched)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("shop:product_list"), {"page": "2"})

    assert f"{products} items" in response.content.decode()
