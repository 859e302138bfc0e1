"""``{{ value|money }}`` and ``{{ amount|money:currency }}``: money written by shop.money.format_money.

A builtin (config/settings.py TEMPLATES), so no template needs ``{% load %}``.
"""

from django import template

from ..money import format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    if value in (None, ""):
        return ""
    return format_money(value, currency)
