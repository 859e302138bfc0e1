"""Catalogue reads: what the storefront lists and shows. Only active products are ever shown."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, ngettext

from .filters import ProductFilter
from .models import Category, Product, ProductImage

#: A product with this many or fewer left is shown as "Only N left".
LOW_STOCK = 5


def category_list() -> list[Category]:
    return list(Category.objects.all())


def _with_pictures(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")))


def catalogue_products() -> QuerySet[Product]:
    """Every active product with its category and pictures: what the catalogue filters (shop.filters)."""
    return _with_pictures(Product.objects.active().select_related("category"))


def product_catalogue(*, params) -> ProductFilter:
    """The catalogue as the query string asks (search, category, price, stock, sort): ``.qs`` is the list."""
    return ProductFilter(params, queryset=catalogue_products(), categories=category_list())


def product_get(*, slug: str) -> Product:
    """An active product by slug with its pictures, or 404 (an inactive product is not for sale)."""
    return get_object_or_404(catalogue_products(), slug=slug)


def stock_status(product: Product) -> tuple[str, str]:
    """(css class, text) for the product's stock, as the customer sees it."""
    if product.stock <= 0:
        return "stock-out", gettext("Out of stock")
    if product.stock <= LOW_STOCK:
        return "stock-low", ngettext("Only %(count)d left", "Only %(count)d left", product.stock) % {
            "count": product.stock
        }
    return "stock-in", gettext("In stock")
