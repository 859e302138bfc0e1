"""``{% order_cases order as info %}`` for the order page's cases section (templates/refunds/_order_cases.html).

The order page belongs to ``orders``, which must not import ``refunds``: the include and this tag
bring the cases in without an import up.
"""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def order_cases(context, order):
    """The page's Policy (the context processor's, loaded once per page) is reused."""
    return selectors.order_cases(order, context.get("policy"))
