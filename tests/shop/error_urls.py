"""URLs for the 500-page test: the shop's URLs plus one view that fails."""

from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as shop_urlpatterns


def boom(request):
    raise RuntimeError("a failure the customer must not see")


urlpatterns = [path("boom/", boom), *shop_urlpatterns]
