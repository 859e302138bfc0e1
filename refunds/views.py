"""The customer's case pages (owner or signed link only, see orders.access). Thin: validate, call one service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orders.access import get_order_for_request
from orders.models import Order
from shop.calendar import BusinessCalendar
from shop.models import Policy

from . import selectors, services
from .forms import ClaimForm
from .models import CaseKind

CLAIM_KINDS = {
    "defect": CaseKind.DEFECT,
    "wrong-items": CaseKind.WRONG_ITEM,
    "missing-items": CaseKind.SHORT_DELIVERY,
}


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _order(request, number: str) -> Order:
    return get_order_for_request(request, number, Order.objects.select_related("region", "delivery_method"))


@require_http_methods(["GET", "POST"])
def withdraw(request, number: str):
    """REF-WITHDRAW-30D: the confirmation step (the date the right ends, what will happen), then the service."""
    order = _order(request, number)
    if request.method == "POST":
        try:
            services.withdrawal_request(order_id=order.pk, actor=_actor(request))
        except services.CaseError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("You have withdrawn from the purchase. We have e-mailed you the details."))
        return redirect(order.get_absolute_url())
    info = selectors.order_cases(order)
    return render(
        request,
        "refunds/withdraw.html",
        {
            "order": order,
            "info": info,
            "ends": BusinessCalendar.current().local(info.withdraw_ends),
            "outcome": selectors.withdrawal_outcome(order),
            "paid": order.paid_at is not None,
            "refund_days": Policy.load().withdraw_refund_days,
        },
    )


@require_http_methods(["GET", "POST"])
def claim(request, number: str, kind: str):
    """REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY: the claim form (items, remedy, statement, photos)."""
    if kind not in CLAIM_KINDS:
        raise Http404
    case_kind = CLAIM_KINDS[kind]
    order = _order(request, number)
    info = selectors.order_cases(order)
    lines = [(r.line, r.line.quantity_shipped - r.line.quantity_refused) for r in info.lines]
    lines = [(line, most) for line, most in lines if most > 0]
    ended = [r for r in info.lines if not r.defect_open] if case_kind == CaseKind.DEFECT else []
    form = ClaimForm(
        request.POST or None,
        request.FILES or None,
        lines=lines,
        remedies=services.REMEDIES[case_kind],
        kind=case_kind,
    )
    if request.method == "POST" and info.can_claim and form.is_valid():
        try:
            services.claim_report(
                order_id=order.pk,
                kind=case_kind,
                lines=form.chosen_lines,
                remedy=form.cleaned_data["remedy"],
                statement=form.cleaned_data["statement"],
                photos=form.cleaned_data["photos"],
                keeps_wrong_goods=form.cleaned_data.get("keeps_wrong_goods", False),
                actor=_actor(request),
            )
        except services.CaseError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Thank you: we have your report and e-mailed you a copy."))
            return redirect(order.get_absolute_url())
    return render(
        request,
        "refunds/claim.html",
        {
            "order": order,
            "info": info,
            "form": form,
            "kind": case_kind,
            "kind_label": CaseKind(case_kind).label,
            "ended": ended,
        },
        status=200 if form.is_bound is False or form.is_valid() else 400,
    )


@require_POST
def claim_withdraw(request, number: str, case_id: int):
    """The customer takes back a claim staff have not decided yet."""
    order = _order(request, number)
    case = order.cases.filter(pk=case_id).first()
    if case is None:
        raise Http404
    try:
        services.case_withdraw(case_id=case.pk, actor=_actor(request))
    except services.CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your request is withdrawn."))
    return redirect(order.get_absolute_url())
