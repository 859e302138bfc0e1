"""Checkout steps and the customer's order pages. Thin: validate, call one service, render.

Checkout keeps each step's data in the session under ``checkout``; a step whose predecessors
are missing or no longer valid sends the customer back to the first one that needs them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shop.cart import cart_lines, get_cart, request_cart, request_cart_lines
from shop.delivery import delivery_options, remember_region
from shop.models import ONLINE_METHODS, PREPAID_METHODS, Policy, Region

from . import access, bonus, selectors, services
from .checkout import (
    CheckoutChanged,
    CheckoutError,
    benefits,
    cart_changes,
    checkout_summary,
    checkout_token,
    discount_changes,
    discount_snapshot,
    order_confirm,
    resolve_details,
    review_snapshot,
)
from .forms import ContactForm, DeliveryForm, PaymentForm
from .invoice import invoice_pdf
from .models import Order
from .payment_instructions import payment_instructions

SESSION_KEY = "checkout"
STEPS = (
    ("start", _("Contact & address")),
    ("delivery", _("Delivery")),
    ("payment", _("Payment")),
    ("review", _("Review")),
)


# --- session helpers -----------------------------------------------------------------------------
def _data(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _save(request, **parts) -> None:
    data = dict(_data(request))
    data.update(parts)
    request.session[SESSION_KEY] = data


def _details(request) -> dict:
    data = _data(request)
    return {**data.get("contact", {}), **data.get("delivery", {}), **data.get("payment", {})}


def _cart_and_lines(request, *, with_pictures: bool = False):
    """The cart and its lines, read once for the step and the header's cart summary."""
    return request_cart(request), request_cart_lines(request, with_pictures=with_pictures)


def _empty_cart_redirect(request):
    messages.error(request, _("Your cart is empty, so there is nothing to check out."))
    return redirect("shop:cart")


def _ctx(step: str, **extra) -> dict:
    return {"steps": STEPS, "step": step, **extra}


def _region(request) -> Region | None:
    region_id = _data(request).get("contact", {}).get("region")
    return Region.objects.filter(pk=region_id, in_territory=True).first() if region_id else None


# --- steps ---------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def checkout_start(request):
    """(a) Contact and delivery address (ORD-FIELDS, ORD-TERRITORY)."""
    cart, lines = _cart_and_lines(request)
    if not lines:
        return _empty_cart_redirect(request)
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            _save(request, contact=form.session_data())
            remember_region(request, form.cleaned_data["region"])  # the storefront's delivery promise
            return redirect("checkout:delivery")
    else:
        initial = _data(request).get("contact") or selectors.last_order_contact(user=request.user)
        form = ContactForm(initial=initial)
    try:
        summary = checkout_summary(lines=lines, **benefits(_details(request)))
    except CheckoutError:
        summary = None
    return render(request, "orders/checkout_contact.html", _ctx("start", form=form, lines=lines, summary=summary))


@require_http_methods(["GET", "POST"])
def checkout_delivery(request):
    """(b) Delivery method for the region, with its cost and window (SHIP-METHODS, SHIP-COST-BY-REGION)."""
    cart, lines = _cart_and_lines(request)
    if not lines:
        return _empty_cart_redirect(request)
    region = _region(request)
    if region is None:
        messages.error(request, _("Please enter your contact details and delivery address first."))
        return redirect("checkout:start")
    options = delivery_options(region=region)
    if request.method == "POST":
        form = DeliveryForm(request.POST, options=options)
        if form.is_valid():
            _save(request, delivery={"delivery_method": form.cleaned_data["delivery_method"]})
            return redirect("checkout:payment")
    else:
        form = DeliveryForm(initial=_data(request).get("delivery", {}), options=options)
    try:
        summary = checkout_summary(lines=lines, **benefits(_details(request)))
    except CheckoutError as exc:
        return _back_to_step(request, exc)
    return render(
        request,
        "orders/checkout_delivery.html",
        _ctx("delivery", form=form, options=options, region=region, summary=summary),
    )


@require_http_methods(["GET", "POST"])
def checkout_payment(request):
    """(c) Payment method (PAY-METHODS-PER-PRODUCT, PAY-PREPAY-THRESHOLD, PAY-COD-RESTRICT), ORD-INSERTS."""
    cart, lines = _cart_and_lines(request)
    if not lines:
        return _empty_cart_redirect(request)
    details = _details(request)
    try:
        region, option, _payment, summary = resolve_details(details=details, lines=lines)
    except CheckoutError as exc:
        return _back_to_step(request, exc)
    check = _benefits_check(request, lines=lines, option=option, details=details)
    if request.method == "POST":
        form = PaymentForm(request.POST, payment=_payment, check=check)
        if form.is_valid():
            _save(request, payment=dict(form.cleaned_data))
            return redirect("checkout:review")
    else:
        form = PaymentForm(initial=_data(request).get("payment", {}), payment=_payment)
    return render(
        request,
        "orders/checkout_payment.html",
        _ctx(
            "payment",
            form=form,
            payment=_payment,
            summary=summary,
            option=option,
            region=region,
            points_balance=bonus.bonus_balance(request.user),
        ),
    )


def _benefits_check(request, *, lines, option, details):
    """PAY-DISCOUNTS: what is wrong with a typed code or the points, by field (empty: nothing)."""

    def check(method: str, code: str, points: int) -> dict[str, str]:
        summary = checkout_summary(
            lines=lines, delivery=option, payment_method=method, code=code, email=details.get("email", "")
        )
        errors = {}
        if code and summary.discounts.code_error:
            errors["discount_code"] = summary.discounts.code_error
        if points:
            balance = bonus.bonus_balance(request.user)
            if not request.user.is_authenticated:
                errors["points"] = _("Sign in to spend bonus points.")
            elif points > balance:
                errors["points"] = ngettext(
                    "You have %(balance)s point; you cannot spend %(points)s.",
                    "You have %(balance)s points; you cannot spend %(points)s.",
                    balance,
                ) % {"balance": balance, "points": points}
            elif points > summary.discounts.points_max:
                errors["points"] = ngettext(
                    "At most %(count)s point can be spent on this order (%(percent)s %% of the goods after discounts).",
                    "At most %(count)s points can be spent on this order "
                    "(%(percent)s %% of the goods after discounts).",
                    summary.discounts.points_max,
                ) % {
                    "count": summary.discounts.points_max,
                    "percent": f"{Policy.load().bonus_spend_max_percent.normalize():f}",
                }
        return errors

    return check


def _review_context(request, cart, lines, *, changes=(), changed_ids=frozenset()):
    """Everything the review page shows, plus the token bound to exactly that (ORD-PRICE-LOCK)."""
    details = _details(request)
    policy = Policy.load()
    region, option, payment, summary = resolve_details(details=details, lines=lines, policy=policy, with_estimate=True)
    if not payment.is_offered(details.get("payment_method", "")):
        raise CheckoutError(payment.reason_for(details.get("payment_method", "")), step="payment")
    token = checkout_token(cart=cart, lines=lines, details=details, summary=summary)
    _save(request, shown=review_snapshot(lines), shown_discounts=discount_snapshot(summary))
    payment_label = next(c.label for c in payment.choices if c.method == details["payment_method"])
    return _ctx(
        "review",
        summary=summary,
        details=details,
        region=region,
        option=option,
        payment_label=payment_label,
        is_prepaid=details["payment_method"] in PREPAID_METHODS,
        token=token,
        changes=list(changes),
        changed_ids=set(changed_ids),
    )


def _discount_changes(request, lines) -> list[str]:
    """PAY-DISCOUNTS, ORD-PRICE-LOCK: how the discounts differ from what the review page showed."""
    details = _details(request)
    try:
        _region, _option, _payment, summary = resolve_details(details=details, lines=lines)
    except CheckoutError:
        return []
    return discount_changes(shown=_data(request).get("shown_discounts", []), summary=summary)


def _back_to_step(request, exc: CheckoutError):
    messages.error(request, exc.message)
    if exc.step == "cart":
        return redirect("shop:cart")
    return redirect(f"checkout:{exc.step if exc.step != 'review' else 'start'}")


@require_GET
def checkout_review(request):
    """(d) Review: lines, totals, processing and delivery dates, and the "Confirm order" button."""
    cart, lines = _cart_and_lines(request, with_pictures=True)
    if not lines:
        return _empty_cart_redirect(request)
    try:
        context = _review_context(request, cart, lines)
    except CheckoutError as exc:
        return _back_to_step(request, exc)
    return render(request, "orders/checkout_review.html", context)


@require_POST
def checkout_confirm(request):
    """ORD-PRICE-LOCK: confirm exactly what the review page showed, once."""
    cart = get_cart(request)
    token = request.POST.get("token", "")
    actor = request.user if request.user.is_authenticated else None
    try:
        if cart is None:
            # No cart at all: only a repeat of a confirmation that already happened can succeed.
            order = Order.objects.filter(checkout_token=token).first() if token else None
            if order is None:
                raise CheckoutError("Your cart is empty: nothing was ordered.", step="cart")
        else:
            order = order_confirm(cart=cart, token=token, details=_details(request), actor=actor)
    except CheckoutChanged as exc:
        lines = cart_lines(cart)
        if not lines:
            return _empty_cart_redirect(request)
        changes, changed_ids = cart_changes(shown=_data(request).get("shown", {}), lines=lines)
        changes += _discount_changes(request, lines)
        if not changes:
            changes = [exc.message]
        try:
            context = _review_context(request, cart, lines, changes=changes, changed_ids=changed_ids)
        except CheckoutError as inner:
            return _back_to_step(request, inner)
        return render(request, "orders/checkout_review.html", context, status=409)
    except CheckoutError as exc:
        return _back_to_step(request, exc)

    access.grant_session(request, order)
    request.session.pop(SESSION_KEY, None)
    if order.payment_method in ONLINE_METHODS and order.status == Order.Status.AWAITING_PAYMENT:
        # Starting a payment is a POST (it creates a PayPal order): 307 makes the browser repeat this
        # POST, with its CSRF token, to the payments app, which sends it on to PayPal.
        return HttpResponseRedirect(_payment_start_url(order), status=307)
    return redirect("orders:placed", number=order.number)


def _payment_start_url(order: Order) -> str:
    """PAY-PAYPAL: the payments app's page that sends the customer to PayPal (or the card form)."""
    return reverse("payments:start", kwargs={"number": order.number})


# --- order pages ---------------------------------------------------------------------------------
@login_required
@require_GET
def order_list(request):
    """My orders, newest first (number, date, status in words, total)."""
    page = Paginator(selectors.orders_for_user(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page, "orders": page.object_list})


@login_required
@require_GET
def bonus_points(request):
    """PAY-DISCOUNTS: the customer's bonus balance (the ledger's sum) and its history, order by order."""
    return render(
        request,
        "orders/bonus_points.html",
        {
            "balance": bonus.bonus_balance(request.user),
            "entries": bonus.bonus_history(request.user),
            "policy": Policy.load(),
        },
    )


def _order_page(request, number: str, *, placed: bool):
    order = selectors.order_for_page(request, number)
    estimate, estimate_firm = selectors.order_estimate(order)
    payments, refunds = selectors.order_money_movements(order)
    pay_url = ""
    if order.status == Order.Status.AWAITING_PAYMENT and order.payment_method in ONLINE_METHODS:
        pay_url = _payment_start_url(order)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "discount_lines": list(order.discount_lines.all()) if order.discount.amount else [],  # PAY-DISCOUNTS
            "timeline": order.timeline,
            "estimate": estimate,
            "estimate_firm": estimate_firm,
            "payments": payments,
            "refunds": refunds,
            "pay_url": pay_url,
            "placed": placed,
            **payment_instructions(order),
        },
    )


@require_GET
def order_detail(request, number: str):
    return _order_page(request, number, placed=False)


@require_GET
def order_placed(request, number: str):
    """The thank-you page: the order page with a confirmation banner."""
    return _order_page(request, number, placed=True)


@require_POST
def order_again(request, number: str):
    """ "Order again": the order's products go into the cart at today's prices; the cart page says what."""
    order = access.get_order_for_request(request, number)
    added, refused = services.order_again(request=request, order=order)
    if added:
        messages.success(
            request, _("Added to your cart at today's prices: %(products)s.") % {"products": ", ".join(added)}
        )
    for reason in refused:
        messages.error(request, _("Not added: %(reason)s") % {"reason": reason})
    return redirect("shop:cart")


@require_GET
def order_invoice(request, number: str):
    """The invoice as a PDF download (only for whoever may see the order)."""
    order = access.get_order_for_request(request, number)
    response = HttpResponse(invoice_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{order.number}.pdf"'
    return response
