"""Catalogue reads: what the storefront lists and shows. Only active products are ever shown."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, ngettext

from .models import Category, Product

#: A product with this many or fewer left is shown as "Only N left".
LOW_STOCK = 5


def category_list() -> list[Category]:
    return list(Category.objects.all())


def product_list(*, category: Category | None = None, query: str = "") -> QuerySet[Product]:
    """Active products, optionally in one category and/or whose name contains ``query``."""
    products = Product.objects.active().select_related("category")
    if category is not None:
        products = products.filter(category=category)
    query = query.strip()
    if query:  # the name in any language: a Russian shopper types Latin brand names too
        found = Q()
        for code, _name in settings.LANGUAGES:
            found |= Q(**{f"name_{code}__icontains": query})
        products = products.filter(found)
    return products.order_by("name", "pk")


def product_get(*, slug: str) -> Product:
    """An active product by slug, or 404 (an inactive product is not for sale)."""
    return get_object_or_404(Product.objects.active().select_related("category"), slug=slug)


def stock_status(product: Product) -> tuple[str, str]:
    """(css class, text) for the product's stock, as the customer sees it."""
    if product.stock <= 0:
        return "stock-out", gettext("Out of stock")
    if product.stock <= LOW_STOCK:
        return "stock-low", ngettext("Only %(count)d left", "Only %(count)d left", product.stock) % {
            "count": product.stock
        }
    return "stock-in", gettext("In stock")
