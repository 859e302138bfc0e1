"""The catalogue's search, filters and sorting (django-filter). Every choice lives in the URL's query
string, so a filtered, sorted page can be bookmarked and shared."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category
from .search import product_search

#: sort value → ORDER BY (pk last, so pages never repeat or skip a product of the same price).
SORTS = {
    "name": ("name", "pk"),
    "price": ("price", "pk"),
    "-price": ("-price", "pk"),
    "newest": ("-created_at", "-pk"),
}
SORT_CHOICES = [
    ("name", _("Name A–Z")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
    ("newest", _("Newest first")),
]
DEFAULT_SORT = "name"


class ProductFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        price_min, price_max = data.get("price_min"), data.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            self.add_error("price_max", _("“Price to” must not be lower than “Price from”."))
        return data


class ProductFilter(django_filters.FilterSet):
    """Search (``shop.search.product_search``), category, price range, in stock, and the sort order.

    A value that is not valid is reported next to its field and that filter is not applied.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=100,
        help_text=_("Name, SKU or words from the description."),
    )
    category = django_filters.ChoiceFilter(
        field_name="category__slug", empty_label=_("All categories"), label=_("Category")
    )
    price_min = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="gte",
        label=_("Price from"),
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    price_max = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="lte",
        label=_("Price to"),
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    in_stock = django_filters.BooleanFilter(
        label=_("In stock only"), method="filter_in_stock", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES, method="filter_sort", empty_label=None)

    class Meta:
        form = ProductFilterForm

    def __init__(self, data=None, *, queryset, categories: list[Category]):
        super().__init__(data, queryset=queryset)
        # The categories the page lists anyway: the select needs no query of its own.
        self.categories = categories
        self.filters["category"].extra["choices"] = [(c.slug, c.name) for c in categories]

    def filter_search(self, queryset, name, value):
        return product_search(queryset, value)

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock__gt=0) if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*SORTS[value])

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset.order_by(*SORTS[DEFAULT_SORT]))

    @property
    def chosen_category(self) -> Category | None:
        slug = self.form.cleaned_data.get("category") if self.is_valid() or self.errors else None
        return next((c for c in self.categories if c.slug == slug), None)
