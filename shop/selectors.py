"""Catalogue reads: what the storefront lists and shows. Only active products are ever shown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Category, Product, ProductImage

if TYPE_CHECKING:
    from .filters import ProductFilter

#: A product with this many or fewer left is shown as "Only N left".
LOW_STOCK = 5


def category_list() -> list[Category]:
    return list(Category.objects.all())


#: The words of a search: letters and digits (a SKU "SW-130P" is the words "SW" and "130P").
_WORDS = re.compile(r"\w+", re.UNICODE)
#: Search uses at most this many words (a longer query is cut, not refused).
MAX_SEARCH_WORDS = 8


def product_search_vector():
    """The document searched on PostgreSQL: name, SKU and description (shop migration 0006 indexes it with GIN).

    The ``simple`` configuration (no stemming) because names and SKUs are not words of one language.
    """
    from django.contrib.postgres.search import SearchVector

    return SearchVector("name", "sku", "description", config="simple")


def product_search(products: QuerySet[Product], query: str) -> QuerySet[Product]:
    """THE search of the catalogue: products whose name, SKU or description has every word of ``query``.

    PostgreSQL: full-text search over the GIN-indexed document, each word matched as a prefix
    ("herit" finds "Heritage"). Other databases (SQLite in development): every word is contained in
    the name, the SKU or the description, ignoring case.
    """
    words = _WORDS.findall(query)[:MAX_SEARCH_WORDS]
    if not words:
        return products
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        # Only \w characters reach the raw tsquery, so the customer cannot write tsquery syntax.
        tsquery = " & ".join(f"{word.lower()}:*" for word in words)
        return products.annotate(search_document=product_search_vector()).filter(
            search_document=SearchQuery(tsquery, config="simple", search_type="raw")
        )
    for word in words:
        products = products.filter(Q(name__icontains=word) | Q(sku__icontains=word) | Q(description__icontains=word))
    return products


def _with_pictures(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")))


def catalogue_products() -> QuerySet[Product]:
    """Every active product with its category and pictures: what the catalogue filters (shop.filters)."""
    return _with_pictures(Product.objects.active().select_related("category"))


def product_catalogue(*, params) -> ProductFilter:
    """The catalogue as the query string asks (search, category, price, stock, sort): ``.qs`` is the list."""
    from .filters import ProductFilter

    return ProductFilter(params, queryset=catalogue_products(), categories=category_list())


def product_get(*, slug: str) -> Product:
    """An active product by slug with its pictures, or 404 (an inactive product is not for sale)."""
    return get_object_or_404(catalogue_products(), slug=slug)


def stock_status(product: Product) -> tuple[str, str]:
    """(css class, text) for the product's stock, as the customer sees it."""
    if product.stock <= 0:
        return "stock-out", "Out of stock"
    if product.stock <= LOW_STOCK:
        return "stock-low", f"Only {product.stock} left"
    return "stock-in", "In stock"
