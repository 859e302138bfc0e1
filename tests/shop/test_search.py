"""Finding things: search over name, SKU and description across categories (one selector,
``shop.search.product_search``), sorting and filters held in the URL (django-filter)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from shop.models import Product
from shop.search import product_search
from shop.selectors import catalogue_products
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [product.name for product in response.context["products"]]


@pytest.fixture
def shelf():
    binoculars = CategoryFactory(name="Binoculars", slug="binoculars")
    telescopes = CategoryFactory(name="Telescopes", slug="telescopes")
    accessories = CategoryFactory(name="Accessories", slug="accessories")
    return {
        "sturman": ProductFactory(
            name="Sturman 8x42",
            sku="BN-STU-0842",
            category=binoculars,
            description="Roof prism binocular, waterproof.",
            price=Money(Decimal("12990"), "RUB"),
            stock=14,
        ),
        "heritage": ProductFactory(
            name="Heritage 130P",
            sku="TS-SKW-130P",
            category=telescopes,
            description="A tabletop Dobsonian reflector for the Moon and planets.",
            price=Money(Decimal("24990"), "RUB"),
            stock=0,
        ),
        "filter": ProductFactory(
            name="Moon filter 1.25in",
            sku="AC-MOON-125",
            category=accessories,
            description="Neutral density filter that tames the bright Moon.",
            price=Money(Decimal("990"), "RUB"),
            stock=30,
        ),
    }


def test_search_finds_by_sku_across_categories(client, shelf):
    assert names(client.get(reverse("shop:product_list"), {"q": "TS-SKW-130P"})) == ["Heritage 130P"]
    assert names(client.get(reverse("shop:product_list"), {"q": "bn-stu"})) == ["Sturman 8x42"]


def test_search_finds_by_description_across_categories(client, shelf):
    """ "moon" is in a telescope's description and an accessory's name and description: both categories."""
    assert names(client.get(reverse("shop:product_list"), {"q": "moon"})) == ["Heritage 130P", "Moon filter 1.25in"]
    assert names(client.get(reverse("shop:product_list"), {"q": "waterproof"})) == ["Sturman 8x42"]


def test_search_needs_every_word_and_the_customer_can_narrow_to_a_category(client, shelf):
    assert names(client.get(reverse("shop:product_list"), {"q": "moon reflector"})) == ["Heritage 130P"]
    narrowed = client.get(reverse("shop:product_list"), {"q": "moon", "category": "accessories"})
    assert names(narrowed) == ["Moon filter 1.25in"]


def test_search_ignores_punctuation_and_query_syntax(shelf):
    products = catalogue_products()
    assert list(product_search(products, "!!! & | :*")) == list(products)
    assert [p.name for p in product_search(products, "heritage & (130p)")] == ["Heritage 130P"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Heritage 130P", "Moon filter 1.25in", "Sturman 8x42"]),
        ("price", ["Moon filter 1.25in", "Sturman 8x42", "Heritage 130P"]),
        ("-price", ["Heritage 130P", "Sturman 8x42", "Moon filter 1.25in"]),
        ("newest", ["Moon filter 1.25in", "Heritage 130P", "Sturman 8x42"]),
    ],
)
def test_sorting(client, shelf, sort, expected):
    for days, key in enumerate(["filter", "heritage", "sturman"]):
        Product.objects.filter(pk=shelf[key].pk).update(created_at=dt.datetime(2026, 11, 20 - days, tzinfo=dt.UTC))
    assert names(client.get(reverse("shop:product_list"), {"sort": sort})) == expected


def test_filters_price_range_and_in_stock(client, shelf):
    url = reverse("shop:product_list")
    assert names(client.get(url, {"price_min": "1000", "price_max": "20000"})) == ["Sturman 8x42"]
    assert names(client.get(url, {"in_stock": "on"})) == ["Moon filter 1.25in", "Sturman 8x42"]


def test_filters_live_in_the_url_so_a_shared_link_shows_the_same_page(client, shelf):
    """The form is GET: the address holds every choice, and pagination keeps them."""
    for number in range(13):
        ProductFactory(name=f"Cheap thing {number:02d}", price=Money(Decimal("100"), "RUB"), stock=3)
    params = {"q": "cheap", "price_max": "500", "in_stock": "on", "sort": "-price"}

    first = client.get(reverse("shop:product_list"), params)
    page = first.content.decode()

    assert len(names(first)) == 12
    assert '<form method="get" action="/"' in page
    assert 'href="?q=cheap&amp;price_max=500&amp;in_stock=on&amp;sort=-price&amp;page=2" rel="next"' in page
    assert '<option value="-price" selected>Price: high to low</option>' in page
    # The category links keep the other choices too.
    assert 'href="?q=cheap&amp;price_max=500&amp;in_stock=on&amp;sort=-price&amp;category=accessories"' in page


def test_bad_filter_values_are_reported_next_to_the_field_and_not_applied(client, shelf):
    response = client.get(reverse("shop:product_list"), {"price_min": "5000", "price_max": "100"})
    page = response.content.decode()
    assert "“Price to” must not be lower than “Price from”." in page
    assert names(response) == ["Heritage 130P", "Sturman 8x42"]  # only the valid "from" applies

    response = client.get(reverse("shop:product_list"), {"price_min": "cheap", "sort": "weight"})
    page = response.content.decode()
    assert "Enter a number." in page
    assert "Select a valid choice." in page
    assert names(response) == ["Heritage 130P", "Moon filter 1.25in", "Sturman 8x42"]
