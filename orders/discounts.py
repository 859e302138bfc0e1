"""PAY-DISCOUNTS: which discounts apply to a cart, why, by how much, and how each is split over the lines.

The one place a discount amount is computed: the cart, every checkout step, the confirmation and
therefore the order, the invoice and PayPal all read ``discounts_apply``. The overlap rule
(``models.OVERLAP_RULE``, also in README and the admin):

1. each line gets at most one product/category discount — the one that saves most on that line
   (percent of the line, or a fixed amount off every matching unit);
2. the single best whole-order discount, on what the goods cost after step 1;
3. the single best delivery discount, on the delivery price;
4. bonus points last, at most ``Policy.bonus_spend_max_percent`` of the goods after 1–2.

Every amount is split over the lines in proportion (``allocate``: largest remainder in minor units),
so the lines' shares add up to the amount exactly and a partial refund later gives back the right
share (``OrderLine.net_value``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from djmoney.money import Money

from shop.models import DeliveryMethod, PaymentMethod, Policy
from shop.money import ZERO_DECIMAL_CURRENCIES, format_money, quantize

from .models import Discount, DiscountKind, DiscountTarget, OrderDiscount, OrderStatus

T = DiscountTarget
POINTS_LABEL = gettext_lazy("Bonus points")


# --- the split ----------------------------------------------------------------------------------
def _unit(currency: str) -> Decimal:
    return Decimal("1") if str(currency) in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def allocate(amount: Decimal, weights: dict, currency: str) -> dict:
    """``amount`` split over ``weights`` (key → amount) in proportion, in whole minor units.

    Largest remainder: every key gets the floor of its exact share, the minor units left over go to
    the largest fractional parts (ties by key order). The shares add up to ``amount`` exactly and no
    share exceeds its weight when ``amount`` ≤ the weights' sum.
    """
    unit = _unit(currency)
    units_total = int(quantize(amount, currency) / unit)
    keys = [k for k, w in weights.items() if w > 0]
    weight_sum = sum((weights[k] for k in keys), Decimal("0"))
    if units_total <= 0 or weight_sum <= 0:
        return {k: Decimal("0") * unit for k in weights}
    exact = {k: Decimal(units_total) * weights[k] / weight_sum for k in keys}
    floors = {k: int(exact[k].to_integral_value(rounding=ROUND_DOWN)) for k in keys}
    left = units_total - sum(floors.values())
    for k in sorted(keys, key=lambda k: exact[k] - floors[k], reverse=True)[:left]:
        floors[k] += 1
    return {k: floors.get(k, 0) * unit for k in weights}


# --- inputs and results ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PricedLine:
    """A cart line as the engine sees it: ``amount`` is unit price × quantity."""

    key: int
    product_id: int
    category_id: int
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class AppliedDiscount:
    """One discount line: what it is called, why it applies, how much it takes off."""

    discount_id: int | None
    label: str
    reason: str
    target: str
    amount: Decimal
    code: str = ""
    currency: str = ""

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


@dataclass(frozen=True)
class Offer:
    """A discount that would apply with another payment or delivery method (“Pay with PayPal and save 5 %”)."""

    discount_id: int
    text: str
    payment_method: str = ""
    delivery_method_id: int | None = None


@dataclass
class DiscountResult:
    currency: str
    applied: list[AppliedDiscount] = field(default_factory=list)
    line_discounts: dict = field(default_factory=dict)  # line key → Decimal
    delivery_discount: Decimal = Decimal("0")
    offers: list[Offer] = field(default_factory=list)
    #: The most points this cart may take (Policy share of the goods after discounts).
    points_max: int = 0
    points: int = 0
    code_error: str = ""
    code_note: str = ""

    @property
    def total(self) -> Decimal:
        return sum(self.line_discounts.values(), Decimal("0")) + self.delivery_discount

    def fingerprint(self) -> list:
        """What the customer was shown, for the confirmation token (ORD-PRICE-LOCK covers discounts)."""
        return [[a.discount_id, a.target, str(a.amount)] for a in self.applied]


class CodeError:
    """Why a typed code does not apply; the message goes next to the code field."""

    UNKNOWN = gettext_lazy("That code does not exist. Please check its spelling.")
    EXPIRED = gettext_lazy("That code has expired.")
    NOT_YET = gettext_lazy("That code is not valid yet.")
    USED_UP = gettext_lazy("That code has been used up.")


# --- usage ------------------------------------------------------------------------------------------
def discount_usage(discount_ids: Iterable[int], *, email: str = "") -> dict[int, tuple[int, int]]:
    """discount id → (uses in all, uses by this e-mail); a cancelled order's use counts no more."""
    ids = list(discount_ids)
    if not ids:
        return {}
    rows = (
        OrderDiscount.objects.filter(discount_id__in=ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("discount_id")
        .annotate(n=Count("pk"), mine=Count("pk", filter=Q(email__iexact=email) if email else Q(pk__in=[])))
    )
    return {row["discount_id"]: (row["n"], row["mine"]) for row in rows}


def used_up(discount: Discount, usage: tuple[int, int]) -> bool:
    total, mine = usage
    if discount.usage_limit is not None and total >= discount.usage_limit:
        return True
    return discount.per_customer_limit is not None and mine >= discount.per_customer_limit


# --- the engine -------------------------------------------------------------------------------------
def _date(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")


# Whole sentences with named placeholders (issue #12): a translator can order the words as the
# language needs. The method names are the choices' own (translated) labels.
def _methods(discount: Discount, delivery_names: dict[int, str]) -> dict[str, str]:
    return {
        "payment": str(PaymentMethod(discount.payment_method).label) if discount.payment_method else "",
        "delivery": delivery_names.get(discount.delivery_method_id, _("that delivery")),
    }


def _saving_text(discount: Discount, currency: str) -> str:
    """The saving as an infinitive phrase: "save 5 % on delivery" (it follows "to" in an offer)."""
    if discount.kind == DiscountKind.PERCENT:
        texts = {
            T.ORDER: _("save %(percent)s %%"),
            T.ITEMS: _("save %(percent)s %% on some items"),
            T.DELIVERY: _("save %(percent)s %% on delivery"),
        }
        return texts[discount.target] % {"percent": f"{discount.value.normalize():f}"}
    texts = {
        T.ORDER: _("save %(amount)s"),
        T.ITEMS: _("save %(amount)s per item"),
        T.DELIVERY: _("save %(amount)s on delivery"),
    }
    return texts[discount.target] % {"amount": format_money(discount.value, currency)}


# (pays with a method?, chooses a delivery?, ends?) → the offer, a whole sentence.
OFFERS = {
    (True, True, True): gettext_lazy("Pay with %(payment)s and choose %(delivery)s to %(saving)s until %(date)s"),
    (True, False, True): gettext_lazy("Pay with %(payment)s to %(saving)s until %(date)s"),
    (False, True, True): gettext_lazy("Choose %(delivery)s to %(saving)s until %(date)s"),
    (True, True, False): gettext_lazy("Pay with %(payment)s and choose %(delivery)s to %(saving)s"),
    (True, False, False): gettext_lazy("Pay with %(payment)s to %(saving)s"),
    (False, True, False): gettext_lazy("Choose %(delivery)s to %(saving)s"),
}
# (pays with a method?, chooses a delivery?) → why a typed code waits, next to the code field.
ONLY_WHEN = {
    (True, True): gettext_lazy(
        "That code does not apply to this order: only when you pay with %(payment)s and choose %(delivery)s."
    ),
    (True, False): gettext_lazy("That code does not apply to this order: only when you pay with %(payment)s."),
    (False, True): gettext_lazy("That code does not apply to this order: only when you choose %(delivery)s."),
}
# (pays with a method?, chooses a delivery?) → the condition in an applied discount's reason.
BECAUSE = {
    (True, True): gettext_lazy("because you pay with %(payment)s and choose %(delivery)s"),
    (True, False): gettext_lazy("because you pay with %(payment)s"),
    (False, True): gettext_lazy("because you choose %(delivery)s"),
}


def _tied_to(discount: Discount) -> tuple[bool, bool]:
    return bool(discount.payment_method), bool(discount.delivery_method_id)


def _offer_text(discount: Discount, delivery_names: dict[int, str], currency: str) -> str:
    """PAY-DISCOUNTS: "Pay with PayPal to save 5 % until 31 Dec 2026": what to choose to get it."""
    values = {**_methods(discount, delivery_names), "saving": _saving_text(discount, currency)}
    if discount.ends_at:
        values["date"] = _date(discount.ends_at)
    return str(OFFERS[(*_tied_to(discount), bool(discount.ends_at))]) % values


def _only_when_text(discount: Discount, delivery_names: dict[int, str]) -> str:
    return str(ONLY_WHEN[_tied_to(discount)]) % _methods(discount, delivery_names)


def _reason_text(discount: Discount, delivery_names: dict[int, str], currency: str) -> str:
    """Why an applied discount applies: a list of whole clauses ("code SPRING, until 31 Dec 2026")."""
    why = [_("code %(code)s") % {"code": discount.code} if discount.code else _("running now")]
    if any(_tied_to(discount)):
        why.append(str(BECAUSE[_tied_to(discount)]) % _methods(discount, delivery_names))
    if discount.min_order_value:
        why.append(_("on goods of %(amount)s or more") % {"amount": format_money(discount.min_order_value, currency)})
    if discount.ends_at:
        why.append(_("until %(date)s") % {"date": _date(discount.ends_at)})
    return ", ".join(why)


def _line_matches(discount: Discount, line: PricedLine) -> bool:
    return line.product_id in discount._product_ids or line.category_id in discount._category_ids


def _line_saving(discount: Discount, line: PricedLine, currency: str) -> Decimal:
    if discount.kind == DiscountKind.PERCENT:
        return min(line.amount, quantize(line.amount * discount.value / 100, currency))
    return min(line.amount, quantize(discount.value, currency) * line.quantity)


def _amount_saving(discount: Discount, base: Decimal, currency: str) -> Decimal:
    if base <= 0:
        return Decimal("0")
    if discount.kind == DiscountKind.PERCENT:
        return min(base, quantize(base * discount.value / 100, currency))
    return min(base, quantize(discount.value, currency))


def candidate_discounts(*, code: str = "", now: datetime | None = None) -> list[Discount]:
    """Active discounts running now without a code, plus the one with ``code`` (any state, to explain)."""
    now = now or timezone.now()
    running = Q(is_active=True, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    query = running & Q(code="")
    if code:
        query |= Q(code=code.strip().upper())
    discounts = list(
        Discount.objects.filter(query).prefetch_related("products", "categories").order_by("pk").distinct()
    )
    for d in discounts:
        d._product_ids = {p.pk for p in d.products.all()}
        d._category_ids = {c.pk for c in d.categories.all()}
    return discounts


def discounts_apply(
    *,
    lines: list[PricedLine],
    currency: str,
    delivery_price: Decimal = Decimal("0"),
    payment_method: str = "",
    delivery_method_id: int | None = None,
    code: str = "",
    email: str = "",
    points: int = 0,
    now: datetime | None = None,
    policy: Policy | None = None,
    discounts: list[Discount] | None = None,
    usage: dict[int, tuple[int, int]] | None = None,
    delivery_names: dict[int, str] | None = None,
) -> DiscountResult:
    """PAY-DISCOUNTS: apply the overlap rule to a cart (see the module docstring). Reads only.

    ``payment_method`` / ``delivery_method_id`` empty means "not chosen yet": discounts tied to a
    method are then offers, not applied. ``points`` beyond what the cart may take are not applied
    (the form refuses them with a message before this is reached).
    """
    now = now or timezone.now()
    policy = policy or Policy.load()
    code = (code or "").strip().upper()
    discounts = candidate_discounts(code=code, now=now) if discounts is None else discounts
    if usage is None:
        usage = discount_usage([d.pk for d in discounts if d.usage_limit or d.per_customer_limit], email=email)
    if delivery_names is None:
        wanted = {d.delivery_method_id for d in discounts if d.delivery_method_id}
        delivery_names = dict(DeliveryMethod.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}
    result = DiscountResult(currency=currency)
    goods = sum((line.amount for line in lines), Decimal("0"))
    result.line_discounts = {line.key: Decimal("0") for line in lines}

    eligible: list[Discount] = []
    code_discount = None
    for d in discounts:
        is_code = bool(d.code) and d.code == code
        if is_code:
            code_discount = d
            if not d.is_active or (d.ends_at is not None and d.ends_at <= now):
                result.code_error = str(CodeError.EXPIRED)
                continue
            if d.starts_at > now:
                result.code_error = str(CodeError.NOT_YET)
                continue
        if used_up(d, usage.get(d.pk, (0, 0))):
            if is_code:
                result.code_error = str(CodeError.USED_UP)
            continue
        problem = ""
        if goods < d.min_order_value:
            problem = _("That code does not apply to this order: the goods must cost at least %(amount)s.") % {
                "amount": format_money(d.min_order_value, currency)
            }
        elif d.target == T.ITEMS and not any(_line_matches(d, line) for line in lines):
            problem = _("That code does not apply to this order: none of the products in your cart is included.")
        elif d.target == T.DELIVERY and delivery_method_id is not None and delivery_price <= 0:
            problem = _("That code does not apply to this order: your delivery is free already.")
        method_mismatch = (d.payment_method and d.payment_method != payment_method) or (
            d.delivery_method_id and d.delivery_method_id != delivery_method_id
        )
        if problem:
            if is_code:
                result.code_error = problem
            continue
        if method_mismatch:
            if is_code:
                result.code_error = _only_when_text(d, delivery_names)
            result.offers.append(
                Offer(
                    d.pk,
                    _offer_text(d, delivery_names, currency),
                    payment_method=d.payment_method,
                    delivery_method_id=d.delivery_method_id,
                )
            )
            continue
        eligible.append(d)
    if code and code_discount is None:
        result.code_error = str(CodeError.UNKNOWN)

    def reason(d: Discount) -> str:
        return _reason_text(d, delivery_names, currency)

    def label(d: Discount) -> str:
        return f"{d.name} (−{d.value_label})" if d.kind == DiscountKind.PERCENT else d.name

    applied_ids = set()
    # 1. Product/category discounts: the best one per line, never two on the same line.
    per_line: dict[int, tuple[Discount, Decimal]] = {}
    for line in lines:
        best = None
        for d in eligible:
            if d.target != T.ITEMS or not _line_matches(d, line):
                continue
            saving = _line_saving(d, line, currency)
            if saving > 0 and (best is None or saving > best[1]):
                best = (d, saving)
        if best is not None:
            per_line[line.key] = best
    by_discount: dict[int, Decimal] = defaultdict(Decimal)
    item_discounts = {}
    for key, (d, saving) in per_line.items():
        result.line_discounts[key] += saving
        by_discount[d.pk] += saving
        item_discounts[d.pk] = d
    for pk, d in sorted(item_discounts.items()):
        result.applied.append(AppliedDiscount(d.pk, label(d), reason(d), T.ITEMS, by_discount[pk], d.code, currency))
        applied_ids.add(pk)

    # 2. The single best whole-order discount, on the goods after step 1, split in proportion.
    net = {line.key: line.amount - result.line_discounts[line.key] for line in lines}
    best_order = max(
        ((d, _amount_saving(d, sum(net.values(), Decimal("0")), currency)) for d in eligible if d.target == T.ORDER),
        key=lambda pair: (pair[1], -pair[0].pk),
        default=None,
    )
    if best_order is not None and best_order[1] > 0:
        d, amount = best_order
        for key, share in allocate(amount, net, currency).items():
            result.line_discounts[key] += share
        result.applied.append(AppliedDiscount(d.pk, label(d), reason(d), T.ORDER, amount, d.code, currency))
        applied_ids.add(d.pk)

    # 3. The single best delivery discount.
    best_delivery = max(
        ((d, _amount_saving(d, delivery_price, currency)) for d in eligible if d.target == T.DELIVERY),
        key=lambda pair: (pair[1], -pair[0].pk),
        default=None,
    )
    if best_delivery is not None and best_delivery[1] > 0:
        d, amount = best_delivery
        result.delivery_discount = amount
        result.applied.append(AppliedDiscount(d.pk, label(d), reason(d), T.DELIVERY, amount, d.code, currency))
        applied_ids.add(d.pk)

    if code_discount is not None and not result.code_error and code_discount.pk not in applied_ids:
        result.code_note = _("Your code is valid, but a better discount already applies to this order.")

    # 4. Bonus points, last: whole points, at most the Policy share of the goods after discounts.
    net = {line.key: line.amount - result.line_discounts[line.key] for line in lines}
    goods_net = sum(net.values(), Decimal("0"))
    share = goods_net * Decimal(policy.bonus_spend_max_percent) / 100
    result.points_max = max(0, int(share.to_integral_value(rounding=ROUND_DOWN)))
    if 0 < points <= result.points_max:
        result.points = points
        for key, part in allocate(Decimal(points), net, currency).items():
            result.line_discounts[key] += part
        result.applied.append(
            AppliedDiscount(
                None,
                str(POINTS_LABEL),
                ngettext("%(n)d of your points", "%(n)d of your points", points) % {"n": points},
                T.ORDER,
                Decimal(points),
                "",
                currency,
            )
        )
    return result


def priced_lines(cart_lines) -> list[PricedLine]:
    """Cart lines (with their products loaded) as the engine's input."""
    return [
        PricedLine(
            key=line.pk,
            product_id=line.product_id,
            category_id=line.product.category_id,
            name=line.product.name,
            unit_price=line.product.price.amount,
            quantity=line.quantity,
        )
        for line in cart_lines
    ]
