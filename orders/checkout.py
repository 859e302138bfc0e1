"""Checkout: what the customer may choose, what the order will cost, and confirming it.

Reads (``offered_payment_methods``, ``checkout_summary``, ``checkout_token``, ``cart_changes``)
are used by the step pages; the one write is ``order_confirm`` (ORD-PRICE-LOCK).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from djmoney.money import Money

from shop import hooks
from shop.calendar import BusinessCalendar
from shop.cart import cart_fingerprint, cart_lines
from shop.delivery import DeliveryEstimate, DeliveryOption, DeliveryUnavailable, delivery_estimate, delivery_option
from shop.locks import lock_bonus_account, lock_cart, lock_discounts
from shop.models import (
    ON_DELIVERY_METHODS,
    ONLINE_METHODS,
    PREPAID_METHODS,
    Cart,
    CartLine,
    DeliveryMethod,
    PaymentMethod,
    Policy,
    Region,
)
from shop.money import format_money

from . import bonus, events
from .discounts import (
    AppliedDiscount,
    DiscountResult,
    candidate_discounts,
    discount_usage,
    discounts_apply,
    priced_lines,
    used_up,
)
from .models import Order, OrderDiscount, OrderLine
from .notifications import order_acknowledgement_queue
from .services import order_ready_check
from .standing import cod_decision
from .stock import take_stock

logger = logging.getLogger(__name__)

DETAIL_FIELDS = (
    # PAY-DISCOUNTS: the typed code and the points to spend are part of what the review page binds.
    "discount_code",
    "points",
    "full_name",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
    "region",
    "delivery_method",
    "payment_method",
    "no_marketing_inserts",
)


class CheckoutError(Exception):
    """The order cannot be confirmed as it stands; the message is for the customer. Nothing was saved.

    ``step`` names the checkout step the customer should go back to (``cart``, ``start``,
    ``delivery``, ``payment``), and ``field`` the form field the message belongs to, if any.
    """

    def __init__(self, message: str, *, step: str = "review", field: str = ""):
        super().__init__(message)
        self.message, self.step, self.field = message, step, field


class CheckoutChanged(CheckoutError):
    """The cart's content or prices changed since the review page was shown (ORD-PRICE-LOCK)."""

    def __init__(self, message: str = "Your cart changed since you reviewed it. Please check the order again."):
        super().__init__(message, step="review")


# --- payment methods --------------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentChoice:
    method: str
    label: str
    offered: bool
    reason: str = ""

    @property
    def is_prepaid(self) -> bool:
        return self.method in PREPAID_METHODS


@dataclass(frozen=True)
class PaymentChoices:
    choices: list[PaymentChoice]
    #: Set when the cart's products share no payment method at all; checkout cannot go on.
    blocked_reason: str = ""

    @property
    def offered(self) -> list[PaymentChoice]:
        return [choice for choice in self.choices if choice.offered]

    def is_offered(self, method: str) -> bool:
        return any(choice.method == method for choice in self.offered)

    def reason_for(self, method: str) -> str:
        for choice in self.choices:
            if choice.method == method:
                return choice.reason
        return f"{method} is not a payment method of this shop."


def offered_payment_methods(
    *,
    lines: Iterable[CartLine],
    order_total: Money,
    email: str = "",
    policy: Policy | None = None,
    delivery_method: DeliveryMethod | None = None,
) -> PaymentChoices:
    """Every payment method with whether it is offered for this cart, and why not.

    PAY-METHODS-PER-PRODUCT: only methods that every product in the cart allows.
    PAY-PREPAY-THRESHOLD: cash/card to the courier is withdrawn when the order is worth
    Policy.prepay_threshold_amount or more, or holds Policy.prepay_threshold_items items or more.
    The amount compared is the order's total *including delivery* — what the courier would have
    to collect at the door; the shop's risk is the whole sum, not just the goods.
    PAY-COD-RESTRICT: withdrawn too when the customer's standing forbids paying on delivery.
    And only with a delivery method whose carrier can collect money at the door
    (``DeliveryMethod.collects_payment``: an express service usually cannot).
    """
    policy = policy or Policy.load()
    lines = list(lines)
    item_count = sum(line.quantity for line in lines)

    allowed_by = {method.value: [] for method in PaymentMethod}  # method -> products refusing it
    for line in lines:
        for method in PaymentMethod:
            if method.value not in (line.product.payment_methods or []):
                allowed_by[method.value].append(line.product.name)

    cod_reason = ""
    threshold_amount = Decimal(policy.prepay_threshold_amount)
    if delivery_method is not None and not delivery_method.collects_payment:
        cod_reason = _(
            "%(method)s cannot collect money at the door; choose another delivery method to pay on delivery."
        ) % {"method": delivery_method.name}
    elif order_total.amount >= threshold_amount:
        limit = format_money(threshold_amount, order_total.currency)
        cod_reason = _("orders of %(limit)s or more must be prepaid.") % {"limit": limit}
    elif item_count >= policy.prepay_threshold_items:
        cod_reason = _("orders of %(count)s or more items must be prepaid.") % {"count": policy.prepay_threshold_items}
    elif email:
        decision = cod_decision(email=email)
        if not decision.allowed:
            cod_reason = decision.reason or _("paying on delivery has been withdrawn from your account.")

    choices = []
    for method in PaymentMethod:
        refusing = allowed_by[method.value]
        if refusing:
            names = ", ".join(f"“{name}”" for name in refusing)
            reason = _("%(method)s is not available: %(names)s cannot be paid this way.") % {
                "method": method.label,
                "names": names,
            }
            choices.append(PaymentChoice(method.value, method.label, False, reason))
        elif method.value in ON_DELIVERY_METHODS and cod_reason:
            choices.append(
                PaymentChoice(
                    method.value,
                    method.label,
                    False,
                    _("%(method)s is not available: %(reason)s") % {"method": method.label, "reason": cod_reason},
                )
            )
        else:
            choices.append(PaymentChoice(method.value, method.label, True))

    blocked = ""
    if lines and not any(not allowed_by[m.value] for m in PaymentMethod):
        blocked = _(
            "The products in your cart have no payment method in common, so they cannot be bought in one "
            "order. Please order them separately."
        )
    return PaymentChoices(choices=choices, blocked_reason=blocked)


# --- summary ----------------------------------------------------------------------------------
@dataclass
class CheckoutSummary:
    lines: list[CartLine]
    subtotal: Money
    delivery: DeliveryOption | None
    discount: Money
    total: Money
    item_count: int
    estimate: DeliveryEstimate | None = None
    line_totals: dict[int, Money] = field(default_factory=dict)
    #: PAY-DISCOUNTS: what applies and why, each line's share, the offers with another method.
    discounts: DiscountResult | None = None

    @property
    def currency(self) -> str:
        return str(self.subtotal.currency)

    @property
    def rows(self) -> list[tuple[CartLine, Money]]:
        return [(line, self.line_totals[line.pk]) for line in self.lines]

    @property
    def discount_rows(self) -> list[tuple[CartLine, Money, Money]]:
        """(line, line total, the line's share of the discounts) for the review page."""
        return [(line, self.line_totals[line.pk], self.line_discount(line.pk)) for line in self.lines]

    def line_discount(self, line_id: int) -> Money:
        amount = self.discounts.line_discounts.get(line_id, Decimal("0")) if self.discounts else Decimal("0")
        return Money(amount, self.currency)

    @property
    def delivery_discount(self) -> Money:
        return Money(self.discounts.delivery_discount if self.discounts else Decimal("0"), self.currency)

    @property
    def applied(self) -> list[AppliedDiscount]:
        return self.discounts.applied if self.discounts else []

    @property
    def offers(self) -> list:
        return self.discounts.offers if self.discounts else []


def _currency(lines: list[CartLine]) -> str:
    currencies = {str(line.product.price.currency) for line in lines}
    if len(currencies) > 1:
        raise CheckoutError("Your cart mixes prices in different currencies and cannot be ordered.", step="cart")
    return currencies.pop() if currencies else Policy.load().currency


def checkout_summary(
    *,
    lines: list[CartLine],
    delivery: DeliveryOption | None = None,
    with_estimate: bool = False,
    policy: Policy | None = None,
    calendar: BusinessCalendar | None = None,
    payment_method: str = "",
    code: str = "",
    points: int = 0,
    email: str = "",
    discounts: list | None = None,
) -> CheckoutSummary:
    """The one place order totals are computed (ORD-PRICE-LOCK stores exactly these numbers).

    PAY-DISCOUNTS: the discounts are ``orders.discounts.discounts_apply`` for this cart, delivery,
    payment method (empty: not chosen yet), code and points.
    """
    policy = policy or Policy.load()
    currency = _currency(lines)
    subtotal = Money(sum((line.product.price.amount * line.quantity for line in lines), Decimal("0")), currency)
    delivery_price = delivery.price if delivery else Money(0, currency)
    if str(delivery_price.currency) != currency:
        raise CheckoutError("Delivery is priced in another currency than the goods.", step="delivery")
    result = discounts_apply(
        lines=priced_lines(lines),
        currency=currency,
        delivery_price=delivery_price.amount,
        payment_method=payment_method,
        delivery_method_id=delivery.method.pk if delivery else None,
        code=code,
        email=email,
        points=points,
        policy=policy,
        discounts=discounts,
    )
    discount = Money(result.total, currency)
    estimate = None
    if with_estimate and delivery is not None:
        estimate = delivery_estimate(
            start=timezone.now(),
            days_min=delivery.days_min,
            days_max=delivery.days_max,
            policy=policy,
            calendar=calendar,
        )
    return CheckoutSummary(
        lines=lines,
        subtotal=subtotal,
        delivery=delivery,
        discount=discount,
        total=subtotal + delivery_price - discount,
        item_count=sum(line.quantity for line in lines),
        estimate=estimate,
        line_totals={line.pk: Money(line.product.price.amount * line.quantity, currency) for line in lines},
        discounts=result,
    )


# --- the token --------------------------------------------------------------------------------
def normalise_details(details: dict) -> dict:
    """The step data as plain values (ids for region and method), in a fixed shape."""
    out = {}
    for name in DETAIL_FIELDS:
        value = details.get(name, "")
        if name in {"region", "delivery_method"}:
            value = getattr(value, "pk", value)
            value = "" if value in (None, "") else str(value)
        elif name == "no_marketing_inserts":
            value = bool(value)
        elif name == "discount_code":
            value = "" if value is None else str(value).strip().upper()
        elif name == "points":
            value = str(value).strip() if value not in (None, "") else "0"
            value = value if value.isdigit() else "0"
            value = str(int(value))
        else:
            value = "" if value is None else str(value).strip()
        out[name] = value
    return out


def checkout_token(*, cart: Cart, lines: list[CartLine], details: dict, summary: CheckoutSummary | None = None) -> str:
    """The confirmation token the review page embeds; it is also the order's ``checkout_token``.

    Bound to the cart, its content and prices (``cart_fingerprint``) and every detail the customer
    entered, and signed with the site's secret so nobody can forge another visitor's token. The same
    cart confirmed twice with the same content and details yields the same token, hence one order.
    PAY-DISCOUNTS: also bound to the discounts the summary applied (which, how much): a discount that
    ended or was used up since the review page changes the token, so the customer reviews again.
    """
    shown = normalise_details(details)
    if summary is None:
        try:
            summary = resolve_details(details=details, lines=lines)[3]
        except CheckoutError:
            summary = None  # the confirmation refuses these details anyway
    shown["_discounts"] = summary.discounts.fingerprint() if summary and summary.discounts else []
    details_json = json.dumps(shown, sort_keys=True)
    details_hash = hashlib.sha256(details_json.encode()).hexdigest()
    raw = f"{cart.pk}|{cart_fingerprint(lines)}|{details_hash}"
    return salted_hmac("orders.checkout_token", raw, algorithm="sha256").hexdigest()


def benefits(details: dict) -> dict:
    """The discount code, points and e-mail from the step data, as ``checkout_summary`` takes them."""
    d = normalise_details(details)
    return {"code": d["discount_code"], "points": int(d["points"]), "email": d["email"]}


def discount_snapshot(summary: CheckoutSummary) -> list[dict]:
    """The discount lines the review page showed (PAY-DISCOUNTS), kept to explain a later change."""
    return [{"id": a.discount_id, "label": a.label, "amount": str(a.amount)} for a in summary.applied]


def discount_changes(*, shown: list[dict], summary: CheckoutSummary) -> list[str]:
    """How the discounts differ from what the review page showed (ORD-PRICE-LOCK covers discounts)."""
    messages = []
    now = {(a.discount_id, a.label): a for a in summary.applied}
    currency = summary.currency
    for before in shown:
        after = now.get((before["id"], before["label"]))
        old = format_money(Decimal(before["amount"]), currency)
        if after is None:
            messages.append(
                _("The discount “%(label)s” (−%(old)s) no longer applies: it has ended or been used up.")
                % {"label": before["label"], "old": old}
            )
        elif after.amount != Decimal(before["amount"]):
            new = format_money(after.amount, currency)
            messages.append(
                _("The discount “%(label)s” changed from −%(old)s to −%(new)s.")
                % {"label": before["label"], "old": old, "new": new}
            )
    labels = {(b["id"], b["label"]) for b in shown}
    for key, after in now.items():
        if key not in labels:
            messages.append(
                _("The discount “%(label)s” (−%(amount)s) now applies.")
                % {"label": after.label, "amount": format_money(after.amount, currency)}
            )
    return messages


def review_snapshot(lines: list[CartLine]) -> dict[str, dict]:
    """What the review page showed, kept in the session to explain a later change."""
    return {
        str(line.product_id): {
            "name": line.product.name,
            "price": str(line.product.price.amount),
            "currency": str(line.product.price.currency),
            "quantity": line.quantity,
        }
        for line in lines
    }


def cart_changes(*, shown: dict[str, dict], lines: list[CartLine]) -> tuple[list[str], set[int]]:
    """Messages describing how the cart differs from what the review page showed, and the changed products."""
    messages, changed = [], set()
    current = {str(line.product_id): line for line in lines}
    for product_id, before in shown.items():
        line = current.get(product_id)
        if line is None:
            messages.append(_("“%(name)s” is no longer in your cart.") % {"name": before["name"]})
            continue
        price = line.product.price
        if Decimal(before["price"]) != price.amount or before["currency"] != str(price.currency):
            old = format_money(Decimal(before["price"]), before["currency"])
            new = format_money(price)
            messages.append(
                _("The price of “%(name)s” changed from %(old)s to %(new)s.")
                % {"name": line.product.name, "old": old, "new": new}
            )
            changed.add(line.product_id)
        if before["quantity"] != line.quantity:
            messages.append(
                _("The quantity of “%(name)s” changed from %(old)s to %(new)s.")
                % {"name": line.product.name, "old": before["quantity"], "new": line.quantity}
            )
            changed.add(line.product_id)
    for product_id, line in current.items():
        if product_id not in shown:
            messages.append(_("“%(name)s” was added to your cart.") % {"name": line.product.name})
            changed.add(line.product_id)
    return messages, changed


# --- validation shared by the steps and the confirmation -------------------------------------
def resolve_details(*, details: dict, lines: list[CartLine], policy: Policy | None = None, with_estimate: bool = False):
    """Check the step data against the current cart and catalogue.

    Returns (region, delivery option, payment choices, summary). Raises CheckoutError naming the step.
    """
    policy = policy or Policy.load()
    d = normalise_details(details)
    for name, label in (("full_name", "full name"), ("email", "e-mail"), ("phone", "phone number")):
        if not d[name]:
            raise CheckoutError(f"Please enter your {label}.", step="start", field=name)
    if not d["address"] or not d["city"]:
        raise CheckoutError("Please enter the delivery address.", step="start", field="address")
    # ORD-TERRITORY: checked again at confirmation (the territory may have shrunk meanwhile).
    region = Region.objects.filter(pk=d["region"], in_territory=True).first() if d["region"].isdigit() else None
    if region is None:
        raise CheckoutError("We do not deliver to that region.", step="start", field="region")
    if not d["delivery_method"].isdigit():
        raise CheckoutError("Please choose a delivery method.", step="delivery", field="delivery_method")
    try:
        option = delivery_option(region=region, method=int(d["delivery_method"]))
    except DeliveryUnavailable as exc:
        raise CheckoutError(str(exc), step="delivery", field="delivery_method")
    # The prepayment threshold compares the total before any discount tied to a payment method
    # (that discount depends on the method being offered, not the other way round).
    running = candidate_discounts(code=d["discount_code"])
    base = checkout_summary(lines=lines, delivery=option, policy=policy, discounts=running, **benefits(d))
    payment = offered_payment_methods(
        lines=lines, order_total=base.total, email=d["email"], policy=policy, delivery_method=option.method
    )
    summary = base
    if d["payment_method"] or with_estimate:
        summary = checkout_summary(
            lines=lines,
            delivery=option,
            policy=policy,
            payment_method=d["payment_method"],
            discounts=running,
            with_estimate=with_estimate,
            **benefits(d),
        )
    return region, option, payment, summary


# --- the confirmation -------------------------------------------------------------------------
def order_confirm(*, cart: Cart, token: str, details: dict, actor=None) -> Order:
    """ORD-PRICE-LOCK: turn the reviewed cart into an order, at the prices shown on the review page.

    One transaction: the cart row is locked so concurrent clicks queue up; an order that already
    carries ``token`` is returned as it is (a double click, a resubmitted form or a second tab
    create ONE order). The token is recomputed from the cart as it is now: if content or prices
    changed since review, ``CheckoutChanged`` is raised and nothing is created.

    Cash/card to the courier: the order starts PROCESSING, stock is taken now under row locks (a
    short product refuses the whole order) and ship_by is set (SHIP-WITHIN-2BD). Prepaid methods:
    AWAITING_PAYMENT and no stock taken until the payment is confirmed (PAY-PREPAID-FIRST).
    In the same transaction: the acknowledgement is queued in the outbox (except PayPal/card online,
    whose acknowledgement follows the payment) and the ``order_confirmed`` hook runs; the e-mail is
    sent after commit.
    """
    token = (token or "").strip()
    if not token:
        raise CheckoutChanged("The order form was incomplete. Please review your order again.")
    # An order already carrying the token is looked for under the cart's lock (``_order_create``):
    # a double click waits there for the first one and then returns its order.
    try:
        # The confirmation's events (placed, stock taken, e-mail queued, ready, partner told) in one INSERT.
        with transaction.atomic(), events.batched():
            order = _order_create(cart=cart, token=token, details=details, actor=actor)
    except IntegrityError:
        # Another request inserted the same token between our check and our insert.
        existing = Order.objects.filter(checkout_token=token).first()
        if existing is None:
            raise
        return existing
    return order


def order_language() -> str:
    """The active language (LocaleMiddleware: the header switch's choice, else the browser's) as one of LANGUAGES."""
    return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)


def _order_create(*, cart: Cart, token: str, details: dict, actor) -> Order:
    # Serialise every confirmation of this cart: the second click waits here for the first.
    locked_cart = lock_cart(pk=cart.pk)
    existing = Order.objects.filter(checkout_token=token).first()
    if existing is not None:
        return existing
    if locked_cart is None:
        raise CheckoutError("Your cart is empty: nothing was ordered.", step="cart")
    lines = cart_lines(locked_cart)
    if not lines:
        raise CheckoutError(
            "Your cart is empty — it may have been changed in another tab or window. Nothing was ordered.",
            step="cart",
        )
    inactive = [line.product.name for line in lines if not line.product.is_active]
    if inactive:
        raise CheckoutError(f"“{inactive[0]}” is no longer sold. Please remove it from your cart.", step="cart")
    policy = Policy.load()
    region, option, payment, summary = resolve_details(details=details, lines=lines, policy=policy)
    if checkout_token(cart=locked_cart, lines=lines, details=details, summary=summary) != token:
        raise CheckoutChanged()
    d = normalise_details(details)
    if payment.blocked_reason:
        raise CheckoutError(payment.blocked_reason, step="payment", field="payment_method")
    if not payment.is_offered(d["payment_method"]):
        raise CheckoutError(payment.reason_for(d["payment_method"]), step="payment", field="payment_method")
    account = _discounts_claim(summary=summary, email=d["email"], actor=actor)

    method = d["payment_method"]
    now = timezone.now()
    on_delivery = method in ON_DELIVERY_METHODS
    order = Order.objects.create(
        user=actor if getattr(actor, "is_authenticated", False) else None,
        status=Order.Status.PROCESSING if on_delivery else Order.Status.AWAITING_PAYMENT,
        email=d["email"],
        full_name=d["full_name"],
        phone=d["phone"],
        address=d["address"],
        city=d["city"],
        postcode=d["postcode"],
        region=region,
        delivery_method=option.method,
        payment_method=method,
        no_marketing_inserts=d["no_marketing_inserts"],
        language=order_language(),
        subtotal=summary.subtotal,
        delivery_cost=option.price,
        discount=summary.discount,
        delivery_discount=summary.delivery_discount,
        total=summary.total,
        checkout_token=token,
        # SHIP-WITHIN-2BD: for cash/card on delivery the clock starts at confirmation.
        ship_by=BusinessCalendar.current().add_business_days(now, policy.ship_within_days) if on_delivery else None,
    )
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=line.product,
                product_name=line.product.name,
                sku=line.product.sku,
                unit_price=line.product.price,
                quantity=line.quantity,
                line_total=summary.line_totals[line.pk],
                discount=summary.line_discount(line.pk),
                warranty_months=line.product.warranty_months,
            )
            for line in lines
        ]
    )
    _discount_lines_write(order=order, summary=summary, account=account)
    if on_delivery:
        short = take_stock(order=order, lines=order_lines)
        if short:
            # Raising rolls the whole order back: nothing is created.
            names = ", ".join(f"“{line.product_name}”" for line in short)
            raise CheckoutError(
                f"Sorry, there is not enough stock of {names} for your order any more. "
                "Please change the quantity in your cart.",
                step="cart",
            )
    events.order_placed(order=order, actor=actor if getattr(actor, "is_authenticated", False) else None)
    locked_cart.lines.all().delete()
    locked_cart.save(update_fields=["updated_at"])

    # ORD-ACK is an obligation: its outbox row is written in this transaction (a rolled-back order
    # queues nothing); only the sending waits for commit. PayPal/card online are acknowledged once paid.
    if method not in ONLINE_METHODS:
        order_acknowledgement_queue(order=order)
    hooks.run("order_confirmed", order.pk)
    order_ready_check(order)  # SHIP-SUBCONTRACTOR: paid on delivery, it is ready at once
    return order


def _discounts_claim(*, summary: CheckoutSummary, email: str, actor):
    """PAY-DISCOUNTS: take the uses and the points the review page showed, or raise ``CheckoutChanged``.

    The discounts with a usage limit are locked (pk order, after the cart: ``shop.locks``) and their
    uses counted again: of customers racing for the last use of a code, the first to get here takes
    it and every other one is sent back to the review page, which shows the change. The bonus account
    is locked next; points spent must still be held. Returns the locked account (or None).
    """
    limited = [a.discount_id for a in summary.applied if a.discount_id is not None]
    if limited:
        locked = lock_discounts(limited)
        usage = discount_usage(limited, email=email)
        for discount_id in limited:
            discount = locked.get(discount_id)
            now = timezone.now()
            if (
                discount is None
                or not discount.is_active
                or (discount.ends_at is not None and discount.ends_at <= now)
                or used_up(discount, usage.get(discount_id, (0, 0)))
            ):
                raise CheckoutChanged()
    points = summary.discounts.points if summary.discounts else 0
    if not points:
        return None
    if not getattr(actor, "is_authenticated", False):
        raise CheckoutError("Please sign in to spend bonus points.", step="payment", field="points")
    account = lock_bonus_account(actor.pk)
    if account.balance < points:
        raise CheckoutChanged(f"You have {account.balance} bonus points now, fewer than the {points} you chose.")
    return account


def _discount_lines_write(*, order: Order, summary: CheckoutSummary, account) -> None:
    """The order's discount lines (one use per discount) and the points spent, as the review page showed."""
    currency = summary.currency
    OrderDiscount.objects.bulk_create(
        [
            OrderDiscount(
                order=order,
                discount_id=a.discount_id,
                label=a.label,
                code=a.code,
                target=a.target,
                amount=Money(a.amount, currency),
                email=order.email.lower(),
            )
            for a in summary.applied
        ]
    )
    if account is not None:
        bonus.bonus_spend(order=order, account=account, points=summary.discounts.points)
