"""Puts the cart summary (header: item count and total on every page) and the Policy in templates."""

from django.utils.functional import SimpleLazyObject

from .cart import cart_summary
from .models import Policy


def shop(request):
    return {
        "cart_summary": SimpleLazyObject(lambda: cart_summary(request)),
        "policy": SimpleLazyObject(Policy.load),
    }
