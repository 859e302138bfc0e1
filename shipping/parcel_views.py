"""DLV-LATE, DLV-LOST: the customer's parcel claims (owner, or a guest holding the signed link: orders.access).

Thin: each POST calls one service in ``shipping.services.parcels``; a refusal is shown and changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from orders.access import get_order_for_request
from refunds.models import CaseKind, CaseRemedy

from .models import Shipment
from .selectors import parcel_claims
from .services.parcels import LOST_REMEDIES, ParcelClaimError, parcel_claim_settle, parcel_report_late


def _actor(request):
    return request.user if request.user.is_authenticated else None


@require_POST
def parcel_report_late_view(request, number: str, shipment_id: int):
    """DLV-LATE: "My parcel has not arrived" on the order page."""
    order = get_order_for_request(request, number)
    shipment = get_object_or_404(Shipment, pk=shipment_id, order=order)
    try:
        case = parcel_report_late(shipment_id=shipment.pk, actor=_actor(request))
    except ParcelClaimError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "Thank you: we are looking for your parcel (case %(case)s). We have told the warehouse and "
                "e-mailed you; we send it again at no charge or refund it in full."
            )
            % {"case": case.pk},
        )
    return redirect(order.get_absolute_url())


class LostChoiceForm(forms.Form):
    """DLV-LOST: a replacement or a refund of the goods and the delivery."""

    case = forms.IntegerField(widget=forms.HiddenInput)
    remedy = forms.ChoiceField(
        label=gettext_lazy("What should we do?"),
        widget=forms.RadioSelect,
        choices=[
            (CaseRemedy.REPLACEMENT, gettext_lazy("Send the goods again at no charge")),
            (CaseRemedy.REFUND, gettext_lazy("Refund the goods and the delivery")),
        ],
        error_messages={"required": gettext_lazy("Choose a replacement or a refund.")},
    )


@require_http_methods(["GET", "POST"])
def parcel_lost_choice(request, number: str):
    """DLV-LOST: the customer chooses a replacement or a refund for each lost parcel (signed e-mail link)."""
    order = get_order_for_request(request, number)
    claims = [c for c in parcel_claims(order) if c.lost_case is not None]
    form = LostChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case_id = form.cleaned_data["case"]
        if not any(c.lost_case.pk == case_id for c in claims):
            form.add_error(None, _("That parcel is not one of this order's lost parcels."))
        else:
            try:
                parcel_claim_settle(
                    case_id=case_id, remedy=form.cleaned_data["remedy"], actor=_actor(request), by_customer=True
                )
            except ParcelClaimError as exc:
                form.add_error("remedy" if exc.field == "remedy" else None, str(exc))
            else:
                done = dict(LostChoiceForm.base_fields["remedy"].choices)[form.cleaned_data["remedy"]]
                messages.success(
                    request,
                    _("Thank you. Your choice: %(choice)s. We have e-mailed you.") % {"choice": str(done).lower()},
                )
                return redirect("shipping:parcel_lost_choice", number=order.number)
    context = {"order": order, "claims": claims, "form": form, "remedies": LOST_REMEDIES, "kind": CaseKind}
    return render(request, "shipping/parcel_lost_choice.html", context)
