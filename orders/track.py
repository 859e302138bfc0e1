"""DLV-HANDOVER (seed 002 §2.6): "Track an order" without an account — order number + e-mail.

A person who knows both sees the same customer page as the owner (the session is granted access,
``orders.access.grant_session``). A wrong number and a wrong e-mail get the same answer, so the
page never tells whether an order exists; guessing is rate-limited per address (django-ratelimit).
"""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from . import access
from .models import Order

#: Tries per client address; a person who mistyped has room, a script guessing numbers has not.
TRACK_RATE = "10/10m"
NOT_FOUND = gettext_lazy("We could not find an order with that number and e-mail address. Please check both.")


class TrackForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Order number"),
        max_length=20,
        help_text=gettext_lazy("As in your confirmation e-mail, such as RX-7K4M-9Q2D."),
        error_messages={"required": gettext_lazy("Please enter the order number.")},
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail used for the order"),
        error_messages={
            "required": gettext_lazy("Please enter the e-mail address you ordered with."),
            "invalid": gettext_lazy("Please enter a valid e-mail address, such as anna@example.com."),
        },
    )

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()


def _find(number: str, email: str) -> Order | None:
    return Order.objects.filter(number=number, email__iexact=email.strip()).first()


@require_http_methods(["GET", "POST"])
def track(request):
    form = TrackForm(request.POST or None)
    if request.method == "POST":
        if is_ratelimited(request, group="orders.track", key="ip", rate=TRACK_RATE, method="POST", increment=True):
            form.add_error(None, _("Too many tries from your address. Please wait a few minutes and try again."))
            return render(request, "orders/track.html", {"form": form}, status=429)
        if form.is_valid():
            order = _find(form.cleaned_data["number"], form.cleaned_data["email"])
            if order is not None:
                access.grant_session(request, order)
                return redirect("orders:detail", number=order.number)
            form.add_error(None, NOT_FOUND)
    response: HttpResponse = render(request, "orders/track.html", {"form": form})
    return response
