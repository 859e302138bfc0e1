"""The anonymous catalogue pages (list, detail, search, category) served from the cache (issue #14).

A page is cached whole, keyed by its full path and query string and by the catalogue's *version*.
Any change to what those pages show (a product's price, stock or text, a category, the policy in the
footer, delivery settings) saves a model, and a ``post_save``/``post_delete`` receiver gives the
catalogue a new version (``catalogue_changed``): the next request renders afresh. Stock taken by an
order is a ``Product.save`` too, so "Only 3 left" is never stale.

Only visitors without a session are served from it: a session may hold a cart (the header shows its
count) or a message, and a signed-in user sees their own header. The CSRF token in a cached page (the
"Add to cart" form) is replaced by the visitor's own on every hit, so forms keep working.
``CATALOGUE_CACHE_SECONDS`` (0 turns the cache off) bounds how long an entry lives; a page is reused
only within the minute it was rendered in (the delivery promise on a product page follows the clock).
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

VERSION_KEY = "catalogue:version"
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_SLOT = b"\x00csrf\x00"


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def catalogue_changed(**_kwargs) -> None:
    """Every cached catalogue page is stale: now, and again when the change commits.

    The second bump drops a page that a concurrent request rendered from the not-yet-committed
    state of the database while the change was in flight.
    """
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None))


def _cacheable(request) -> bool:
    if request.method not in ("GET", "HEAD") or settings.CATALOGUE_CACHE_SECONDS <= 0:
        return False
    if request.COOKIES.get(settings.SESSION_COOKIE_NAME) or request.COOKIES.get("messages"):
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def cached_page(view):
    """Serve ``view`` from the catalogue cache to visitors without a session (see the module doc)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        # The minute is part of the key: the product page's delivery promise moves with the clock
        # (business hours, cut-offs at a whole minute), so no page outlives the minute it was made in.
        # The language too: LocaleMiddleware chose it from the visitor's cookie or browser (issue #12).
        key = f"catalogue:page:{_version()}:{get_language()}:{timezone.now():%Y%m%d%H%M}:{path}"
        hit = cache.get(key)
        if hit is not None:
            content_type, body = hit
            return HttpResponse(body.replace(_CSRF_SLOT, get_token(request).encode()), content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            body = _CSRF_VALUE.sub(rb"\1" + _CSRF_SLOT + rb"\2", response.content)
            cache.set(key, (response["Content-Type"], body), settings.CATALOGUE_CACHE_SECONDS)
        return response

    return wrapper
