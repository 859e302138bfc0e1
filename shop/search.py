"""Catalogue search: the one function every search goes through (``product_search``)."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet

from .models import Product

#: The words of a search: letters and digits (a SKU "SW-130P" is the words "SW" and "130P").
_WORDS = re.compile(r"\w+", re.UNICODE)
#: Search uses at most this many words (a longer query is cut, not refused).
MAX_SEARCH_WORDS = 8


#: The columns searched: the SKU, and the name and description in every language of the shop
#: (django-modeltranslation's ``name_ru``, ``name_en``, …), so a Russian or an English name finds the
#: product whatever language the page is in. Written out, not computed: migration 0016 indexes exactly these.
SEARCH_FIELDS = ("name_ru", "name_en", "sku", "description_ru", "description_en")


def product_search_vector():
    """The document searched on PostgreSQL (shop migration 0016 indexes it with GIN).

    The ``simple`` configuration (no stemming) because names and SKUs are not words of one language.
    """
    from django.contrib.postgres.search import SearchVector

    return SearchVector(*SEARCH_FIELDS, config="simple")


def product_search(products: QuerySet[Product], query: str) -> QuerySet[Product]:
    """THE search of the catalogue: products whose name, SKU or description (in any language) has every word
    of ``query``.

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
        match = Q()
        for field in SEARCH_FIELDS:
            match |= Q(**{f"{field}__icontains": word})
        products = products.filter(match)
    return products
