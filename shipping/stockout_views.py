"""SHIP-STOCKOUT: the customer's choice page (owner, or a guest holding the signed link: orders.access)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from orders.access import get_order_for_request
from orders.notifications import shop_local

from .models import StockoutChoice, StockoutVia
from .services.stockout import StockoutError, stockout_choose, stockout_current
from .stockout_forms import StockoutChoiceForm

_DONE = {
    StockoutChoice.CANCEL_ALL: "Your order has been cancelled.",
    StockoutChoice.CANCEL_MISSING: "Thank you: the unavailable items are cancelled; the rest goes on.",
    StockoutChoice.SPLIT: "Thank you: what is available ships now, the rest later.",
}


def _state(hold, rows) -> str:
    if rows[0].choice:
        return "decided"
    if hold.released_at is not None:
        return "closed"
    if timezone.now() > hold.due_at:
        return "expired"
    return "open"


@require_http_methods(["GET", "POST"])
def stockout_answer(request, number: str):
    order = get_order_for_request(request, number)
    hold, rows = stockout_current(order)
    if not rows:
        return redirect(order.get_absolute_url())
    form = StockoutChoiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            stockout_choose(
                order_id=order.pk,
                choice=form.cleaned_data["choice"],
                via=StockoutVia.LINK,
                actor=request.user if request.user.is_authenticated else None,
            )
        except StockoutError as exc:
            form.add_error(None, str(exc))  # shown next to the form; nothing changed
        else:
            messages.success(request, _DONE[form.cleaned_data["choice"]])
            return redirect("shipping:stockout_answer", number=order.number)
    order.refresh_from_db()
    hold, rows = stockout_current(order)
    lines = list(order.lines.all())
    missing = {row.order_line_id: row.quantity_missing for row in rows}
    context = {
        "order": order,
        "state": _state(hold, rows),
        "form": form,
        "rows": rows,
        "choice": rows[0].choice,
        "choice_label": rows[0].get_choice_display(),
        "via": rows[0].via,
        "new_date": rows[0].new_date,
        "lines": [(line, missing.get(line.pk, 0)) for line in lines],
        "answer_by_local": shop_local(hold.due_at),
        "choices": StockoutChoice,
    }
    return render(request, "shipping/stockout_answer.html", context)
