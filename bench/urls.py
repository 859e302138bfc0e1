"""The shop's URLs plus the floor view, which exists only under bench.settings (BENCH_FLOOR)."""

from django.conf import settings
from django.urls import path

from config.urls import urlpatterns as shop_urlpatterns

from .floor import floor

urlpatterns = list(shop_urlpatterns)
if getattr(settings, "BENCH_FLOOR", False):
    urlpatterns.insert(0, path("bench/floor/", floor, name="bench_floor"))
