"""PAY-DISCOUNTS on the cart page (a shop template): ``{% load discounts %}{% cart_discounts rows %}``.

The cart page belongs to ``shop``, which imports no higher app; this tag lets its template show what
``orders.discounts`` would apply to the cart (no payment or delivery method chosen yet: discounts
tied to one show as offers).
"""

from django import template

from ..bonus import bonus_balance as _balance
from ..checkout import CheckoutError, checkout_summary

register = template.Library()


@register.inclusion_tag("orders/_discounts.html", takes_context=True)
def cart_discounts(context, rows):
    lines = [row["line"] for row in rows]
    if not lines:
        return {"summary": None}
    try:
        summary = checkout_summary(lines=lines)
    except CheckoutError:
        summary = None
    return {"summary": summary}


@register.simple_tag
def bonus_balance(user) -> int:
    """The customer's bonus points (for the account page)."""
    return _balance(user)
