"""Issue #14: anonymous catalogue pages come from the cache, and a staff change shows on the next request."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from shop.models import Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(policy):
    return ProductFactory(
        name="Veber 12x50", slug="veber-12x50", sku="BN-VEB-1250", stock=40, price=Money(Decimal("16990"), "RUB")
    )


def _admin_form(product, **overrides):
    data = {
        "category": product.category_id,
        "name_en": product.name,  # catalogue content in English and Russian (django-modeltranslation)
        "slug": product.slug,
        "sku": product.sku,
        "description_en": product.description,
        "price_0": str(product.price.amount),
        "price_1": "RUB",
        "stock": str(product.stock),
        "is_active": "on",
        "warranty_months": "24",
        "payment_methods": list(product.payment_methods),
        "images-TOTAL_FORMS": "0",  # the pictures inline: none added or changed
        "images-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_second_anonymous_request_is_served_from_the_cache(product, django_assert_max_num_queries):
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    assert "Veber 12x50" in Client().get(detail).content.decode()
    with django_assert_max_num_queries(0):
        again = Client().get(detail)
    assert again.status_code == 200 and "Veber 12x50" in again.content.decode()
    search = reverse("shop:product_list") + "?q=veber"
    assert "Veber 12x50" in Client().get(search).content.decode()
    assert "Veber 12x50" not in Client().get(reverse("shop:product_list") + "?q=nothing").content.decode()
    # Cached, the search is served again without a query; a different query string is its own page.
    with django_assert_max_num_queries(0):
        assert "Veber 12x50" in Client().get(search).content.decode()


@pytest.mark.parametrize("change", ["price", "stock"])
def test_a_price_or_stock_edit_in_the_admin_shows_on_the_next_request(product, change):
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    listing = reverse("shop:product_list")
    visitor = Client()
    assert "16,990" in visitor.get(detail).content.decode() and "In stock" in visitor.get(listing).content.decode()
    staff = Client()
    staff.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    edit = {"price": {"price_0": "15490"}, "stock": {"stock": "2"}}[change]
    response = staff.post(reverse("admin:shop_product_change", args=[product.pk]), _admin_form(product, **edit))
    assert response.status_code == 302, response.content.decode()[:2000]

    page, listed = Client().get(detail).content.decode(), Client().get(listing).content.decode()
    if change == "price":
        assert "15,490" in page and "16,990" not in page
        assert "15,490" in listed
    else:
        assert "Only 2 left" in page and "Only 2 left" in listed


def test_stock_taken_by_an_order_shows_at_once(product):
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    assert "In stock" in Client().get(detail).content.decode()
    product.stock = 3
    product.save(update_fields=["stock"])  # what orders/stock.py does when an order takes stock
    assert "Only 3 left" in Client().get(detail).content.decode()


def test_a_cached_page_carries_each_visitors_own_csrf_token_and_add_to_cart_works(product):
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    Client().get(detail)  # fills the cache
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(detail)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert "\x00" not in page.content.decode()
    response = visitor.post(
        reverse("shop:cart_add"), {"csrfmiddlewaretoken": token, "product_id": product.pk, "quantity": "1"}
    )
    assert response.status_code == 302
    assert visitor.get(reverse("shop:cart")).context["count"] == 1


def test_a_visitor_with_a_cart_is_not_served_the_shared_page(product):
    listing = reverse("shop:product_list")
    Client().get(listing)  # the shared, cartless page is cached
    shopper = Client()
    assert "0 items" in shopper.get(listing).content.decode()
    shopper.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": "2"})
    assert "2 items" in shopper.get(listing).content.decode()


def test_signed_in_customers_and_inactive_products_are_never_cached(product):
    customer = Client()
    customer.force_login(UserFactory(username="anna"))
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    customer.get(detail)
    Product.objects.filter(pk=product.pk).update(is_active=False)  # no signal: only a fresh render sees it
    assert customer.get(detail).status_code == 404


def test_cache_off_setting_renders_every_time(product, settings, django_assert_num_queries):
    settings.CATALOGUE_CACHE_SECONDS = 0
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    Client().get(detail)
    Product.objects.filter(pk=product.pk).update(name="Renamed 10x42")
    assert "Renamed 10x42" in Client().get(detail).content.decode()


def test_category_pages_are_cached_per_category(policy):
    first, second = CategoryFactory(slug="binoculars"), CategoryFactory(slug="scopes")
    ProductFactory(category=first, name="Alpha 8x42")
    ProductFactory(category=second, name="Omega 60")
    listing = reverse("shop:product_list")
    one = Client().get(listing + "?category=binoculars").content.decode()
    two = Client().get(listing + "?category=scopes").content.decode()
    assert "Alpha 8x42" in one and "Omega 60" not in one
    assert "Omega 60" in two and "Alpha 8x42" not in two


def test_a_cached_page_is_kept_per_language(product):
    """Issue #12 with #14: a page cached for a Russian browser is never served to an English one."""
    Product.objects.filter(pk=product.pk).update(name_ru="Вебер 12x50")
    detail = reverse("shop:product_detail", kwargs={"slug": product.slug})
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(detail).content.decode()
    assert "Вебер 12x50" in russian
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(detail).content.decode()
    assert "Veber 12x50" in english and "Вебер" not in english
    assert "Вебер 12x50" in Client(HTTP_ACCEPT_LANGUAGE="ru").get(detail).content.decode()
