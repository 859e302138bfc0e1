"""Customer pages of fulfilment (signed links from e-mails, order tracking) and partner callbacks."""

from django.urls import path  # noqa: F401 (each part adds its routes below)

app_name = "shipping"
urlpatterns: list = []
