"""``{% order_cases order as info %}`` for the order page's cases section (templates/refunds/_order_cases.html).

The order page belongs to ``orders``, which must not import ``refunds``: the include and this tag
bring the cases in without an import up.
"""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def order_cases(order):
    return selectors.order_cases(order)
