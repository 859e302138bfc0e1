"""``{% parcel_claims order as claims %}`` for the order page's include (templates/shipping/_order_parcel_claims.html).

The orders app never imports shipping: its page includes the template, and the template loads this tag.
"""

from django import template

from ..selectors import parcel_claims as _parcel_claims

register = template.Library()


@register.simple_tag
def parcel_claims(order):
    return _parcel_claims(order)
