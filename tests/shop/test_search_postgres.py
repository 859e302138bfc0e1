"""Search on PostgreSQL: full-text over name, SKU and description through the GIN index
``shop_product_search`` (EXPLAIN on 20,000 products), prefix matching, and the same answers as SQLite.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you>``.
"""

import pytest
from django.db import connection

from shop.models import Product
from shop.search import product_search
from shop.selectors import catalogue_products
from tests.explain_support import clone_rows
from tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_search_uses_the_gin_index_on_postgres():
    template = ProductFactory(name="Plain binocular", sku="BN-0", description="Nothing special.")
    clone_rows(
        Product,
        template.pk,
        20_000,
        {"name": "'Plain binocular ' || g", "sku": "'BN-' || g", "slug": "'plain-' || g"},
    )
    ProductFactory(name="Heritage 130P", sku="TS-SKW-130P", description="Dobsonian reflector.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_product")

    found = product_search(Product.objects.all(), "dobsonian")
    plan = found.explain()

    assert [p.name for p in found] == ["Heritage 130P"]
    assert "shop_product_search" in plan, plan


def test_search_on_postgres_matches_prefixes_skus_and_descriptions_across_categories():
    ProductFactory(name="Sky-Watcher Heritage 130P", sku="TS-SKW-130P", category=CategoryFactory(slug="t"))
    ProductFactory(
        name="Moon filter", sku="AC-MOON", description="Tames the bright Moon.", category=CategoryFactory(slug="a")
    )
    products = catalogue_products()

    assert [p.name for p in product_search(products, "herit")] == ["Sky-Watcher Heritage 130P"]
    assert [p.name for p in product_search(products, "TS-SKW-130P")] == ["Sky-Watcher Heritage 130P"]
    assert [p.name for p in product_search(products, "bright moon")] == ["Moon filter"]
    assert list(product_search(products, "'; DROP TABLE")) == []


@pytest.mark.parametrize(
    ("sort", "index"),
    [("price", "shop_product_by_price"), ("name", "shop_product_by_name"), ("newest", "shop_product_newest")],
)
def test_catalogue_sort_orders_read_an_index_on_postgres(sort, index):
    """The first catalogue page of 20,000 products in each sort order reads its index, not a sorted scan."""
    from shop.filters import SORTS

    template = ProductFactory(name="Plain binocular", sku="BN-0")
    clone_rows(
        Product,
        template.pk,
        20_000,
        {
            "name": "'Plain binocular ' || g",
            "sku": "'BN-' || g",
            "slug": "'plain-' || g",
            "price": "1000 + g",
            "created_at": "timestamptz '2026-01-01' + g * interval '1 minute'",
        },
    )
    plan = Product.objects.active().order_by(*SORTS[sort])[:12].explain()
    assert index in plan, plan


def test_search_on_postgres_finds_a_product_by_its_russian_or_english_name_through_the_index():
    """Issue #12 with #11: a name in either language is found, whatever language the page is in."""
    from django.utils import translation

    template = ProductFactory(name_en="Plain binocular", name_ru="Простой бинокль", sku="BN-0")
    clone_rows(
        Product, template.pk, 20_000, {"name_en": "'Plain binocular ' || g", "sku": "'BN-' || g", "slug": "'p-' || g"}
    )
    ProductFactory(name_en="Optics cleaning kit", name_ru="Набор для чистки оптики", sku="AC-CLN-KIT")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_product")
    for language in ("ru", "en"):
        with translation.override(language):
            assert [p.sku for p in product_search(Product.objects.all(), "Набор для чистки")] == ["AC-CLN-KIT"]
            assert [p.sku for p in product_search(Product.objects.all(), "cleaning kit")] == ["AC-CLN-KIT"]
    assert "shop_product_search" in product_search(Product.objects.all(), "чистки").explain()
