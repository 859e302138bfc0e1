"""ORD-PRICE-ERROR: the customer's answer page (owner or signed link only, see orders.access)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import holds
from .access import get_order_for_request
from .errors import OrderActionError
from .models import HoldKind, Order, OrderHold
from .notifications import shop_local
from .price_forms import PriceAnswerForm
from .pricing import order_total_with
from .services import order_price_error_answer


def _page_state(hold: OrderHold | None) -> str:
    if hold is None:
        return "answered"
    if hold.due_at is not None and timezone.now() > hold.due_at:
        return "expired"
    return "open"


@require_http_methods(["GET", "POST"])
def price_answer(request, number: str):
    order = get_order_for_request(request, number, Order.objects.select_related("region", "delivery_method"))
    hold = holds.open_hold(order, HoldKind.PRICE_CONFIRMATION)
    state = _page_state(hold)
    form = PriceAnswerForm(request.POST or None)
    if request.method == "POST" and state == "open" and form.is_valid():
        accept = form.cleaned_data["answer"] == PriceAnswerForm.ACCEPT
        try:
            order_price_error_answer(order_id=order.pk, accept=accept, actor=_actor(request))
        except OrderActionError as exc:
            messages.error(request, str(exc))
        else:
            if accept:
                messages.success(request, _("Thank you: the order goes on at the corrected price."))
            else:
                messages.success(request, _("Your order has been cancelled."))
        return redirect("price:answer", number=order.number)

    pending = list(order.price_corrections.filter(resolved=False).select_related("line"))
    latest = list(order.price_corrections.order_by("-pk").select_related("line")[:20])
    corrections = pending or latest
    context = {
        "order": order,
        "state": state,
        "form": form,
        "corrections": corrections,
        "new_total": order_total_with(order, {c.line_id: c.new_unit_price.amount for c in pending})
        if pending
        else None,
        "lines": list(order.lines.all()),
        "answer_by_local": shop_local(hold.due_at if hold else None),
    }
    return render(request, "orders/price_answer.html", context)


def _actor(request):
    return request.user if request.user.is_authenticated else None
