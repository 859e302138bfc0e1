"""Thin views: the PayPal round trip, PayPal's webhook, and the customer's bank account for a refund."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.access import can_view, get_order_for_request

from . import paypal, selectors, services, webhook_guard
from .forms import RefundAccountForm

logger = logging.getLogger(__name__)


@require_POST
def start(request, number):
    """PAY-PAYPAL: send the customer to PayPal to approve the payment (PayPal and card online).

    A POST (it creates a PayPal order), for a browser that may see the order (owner or signed link).
    """
    order = get_order_for_request(request, number)
    try:
        payment = services.paypal_payment_start(order_id=order.pk)
    except services.PaymentError as exc:
        messages.error(request, str(exc))
        return redirect(order.get_absolute_url())
    return redirect(payment.approve_url)


def _payment_for_browser(request):
    """The payment PayPal sent this browser back for, if this browser may see its order; else 404.

    PayPal's token travels in a URL (history, logs, a shared link): from another browser it must
    neither capture the payment nor reveal the order's number.
    """
    payment = selectors.payment_by_paypal_order(request.GET.get("token", ""))
    if payment is None or not can_view(request, payment.order):
        raise Http404("No such payment.")
    return payment


@require_GET
def paypal_return(request):
    """PAY-PAYPAL: the customer approved at PayPal; capture now (idempotent) and show the order."""
    payment = _payment_for_browser(request)
    try:
        payment = services.paypal_payment_capture(payment_id=payment.pk)
    except paypal.PayPalUnavailable:
        messages.warning(
            request,
            _(
                "PayPal has not confirmed your payment yet. We will confirm it shortly and e-mail you; "
                "there is no need to pay again."
            ),
        )
        return redirect(payment.order.get_absolute_url())
    status = payment.status
    if status in {payment.Status.COMPLETED, payment.Status.PARTIALLY_REFUNDED, payment.Status.REFUNDED}:
        messages.success(request, _("Payment received. Thank you!"))
    elif status in {payment.Status.PENDING, payment.Status.REVIEW}:
        messages.info(request, _("Payment received by PayPal; we will confirm it shortly and e-mail you."))
    elif status in {payment.Status.CREATED, payment.Status.APPROVED}:
        messages.warning(request, _("The payment is not completed yet. Please try again."))
    else:
        messages.error(request, _("PayPal did not accept the payment. You can try again."))
    return redirect(payment.order.get_absolute_url())


@require_GET
def paypal_cancel(request):
    """The customer cancelled at PayPal: back to the order, which still waits for the payment."""
    payment = _payment_for_browser(request)
    messages.info(
        request,
        _("You cancelled the payment at PayPal. Your order is waiting for it: press “Pay with PayPal” to try again."),
    )
    return redirect(payment.order.get_absolute_url())


@csrf_exempt  # PayPal cannot send a CSRF token; every event is verified with PayPal instead.
@require_POST
def paypal_webhook(request):
    """PAY-PAYPAL: PayPal's notifications. Verified with PayPal, stored, each event id acted on once.

    Refused before anything is stored or sent to PayPal (``payments.webhook_guard``): too many requests
    from one address (429: PayPal retries), a body over the limit (413), anything but strict JSON (400).
    """
    if webhook_guard.rate_limited(request):
        logger.warning("PayPal webhook: rate limit for %s", webhook_guard.client_address(request))
        return HttpResponse("Too many requests; try again later.", status=429, headers={"Retry-After": "60"})
    try:
        raw = webhook_guard.read_body(request)
    except webhook_guard.BodyTooLarge:
        logger.warning("PayPal webhook: body over %d bytes refused", settings.PAYPAL_WEBHOOK_MAX_BYTES)
        return HttpResponse("Request body too large.", status=413)
    try:
        event = webhook_guard.parse_event(raw)
    except webhook_guard.MalformedEvent as exc:
        logger.warning("PayPal webhook: %s (%d bytes)", exc, len(raw))
        return HttpResponseBadRequest("Malformed event.")
    try:
        verified = paypal.webhook_verify(headers=request.headers, raw_body=raw)
    except paypal.PayPalUnavailable as exc:
        logger.warning("PayPal webhook %.64s: cannot verify now (%s); PayPal will deliver it again", event["id"], exc)
        return HttpResponse("Cannot verify now.", status=503)
    if not verified:
        logger.warning(
            "PayPal webhook %.64s (%.80s): signature not verified; ignored", event["id"], event["event_type"]
        )
        services.webhook_event_reject(event=event, raw=raw, reason="Signature not verified.")
        return HttpResponseBadRequest("Signature not verified.")
    row, acted = services.webhook_event_process(event=event, raw=raw)
    return HttpResponse("Processed." if acted else "Already processed.", status=200)


def refund_account(request, number):
    """PAY-REFUND-SAME-WAY: the customer gives the bank account their COD / bank-transfer refund goes to."""
    order = get_order_for_request(request, number)
    waiting = selectors.refunds_open_to_bank_details(order)
    if request.method == "POST" and waiting:
        form = RefundAccountForm(request.POST)
        if form.is_valid():
            services.refund_bank_details_submit(
                order_id=order.pk,
                holder=form.cleaned_data["account_holder"],
                account_number=form.cleaned_data["account_number"],
                bic=form.cleaned_data["bank_bic"],
                actor=request.user if request.user.is_authenticated else None,
            )
            messages.success(request, _("Thank you. We will transfer the refund to this account and e-mail you."))
            return redirect(order.get_absolute_url())
    else:
        form = RefundAccountForm()
    return render(
        request,
        "payments/refund_account.html",
        {
            "order": order,
            "form": form,
            "waiting": waiting,
            "has_account": any(r.status == r.Status.PENDING for r in waiting),
            "total": selectors.refunds_total(waiting, order),
        },
    )
