"""How each payment method takes and returns money, and the PayPal order we ask the customer to approve.

| method         | gateway        | money back (PAY-REFUND-SAME-WAY)             |
|----------------|----------------|----------------------------------------------|
| PayPal         | PayPal         | PayPal refund of the capture                 |
| card online    | PayPal (cards) | PayPal refund of the capture (to the card)   |
| bank transfer  | bank transfer  | transfer to a bank account the customer gives|
| cash, courier  | courier        | transfer to a bank account the customer gives|
| card, courier  | courier        | card refund through the acquiring terminal   |
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from shop.models import PaymentMethod
from shop.money import quantize

from .models import Gateway, RefundWay


@dataclass(frozen=True)
class MethodRoute:
    gateway: str
    refund_way: str


ROUTES: dict[str, MethodRoute] = {
    PaymentMethod.PAYPAL: MethodRoute(Gateway.PAYPAL, RefundWay.PAYPAL),
    PaymentMethod.CARD_ONLINE: MethodRoute(Gateway.PAYPAL, RefundWay.PAYPAL),
    PaymentMethod.BANK_TRANSFER: MethodRoute(Gateway.BANK_TRANSFER, RefundWay.BANK_ACCOUNT),
    PaymentMethod.CASH_COURIER: MethodRoute(Gateway.COURIER, RefundWay.BANK_ACCOUNT),
    PaymentMethod.CARD_COURIER: MethodRoute(Gateway.COURIER, RefundWay.CARD_TERMINAL),
}


def route(method: str) -> MethodRoute:
    return ROUTES[method]


def paypal_amount(order) -> dict:
    """The purchase unit's amount with a breakdown that adds up to the total exactly.

    item_total is the sum of the line prices PayPal shows (unit price × quantity), shipping is the
    delivery cost; PAY-DISCOUNTS: ``discount`` is the order's discount on the goods (its discount lines
    and points, to the kopeck as on the order page and the invoice) and ``shipping_discount`` the part
    taken off delivery. Should the price-locked total (ORD-PRICE-LOCK) differ from that sum (never
    expected), the gap goes in ``discount`` or ``handling``: PayPal rejects a breakdown that does not add up.
    """
    currency = str(order.total.currency)
    q = lambda value: quantize(value, currency)  # noqa: E731
    total = q(order.total.amount)
    item_total = sum((q(line.unit_price.amount) * line.quantity for line in order.lines.all()), Decimal("0"))
    if not item_total:
        item_total = q(order.subtotal.amount)
    shipping = q(order.delivery_cost.amount)
    shipping_discount = min(q(order.delivery_discount.amount), shipping)
    discount = q(order.discount.amount) - shipping_discount
    gap = item_total + shipping - shipping_discount - discount - total
    handling = Decimal("0")
    if gap > 0:
        discount += gap
    elif gap < 0:
        handling = -gap
    amount = lambda value: {"currency_code": currency, "value": str(q(value))}  # noqa: E731
    breakdown = {"item_total": amount(item_total), "shipping": amount(shipping)}
    if discount > 0:
        breakdown["discount"] = amount(discount)
    if shipping_discount > 0:
        breakdown["shipping_discount"] = amount(shipping_discount)
    if handling > 0:
        breakdown["handling"] = amount(handling)
    return {"currency_code": currency, "value": str(total), "breakdown": breakdown}


def paypal_items(order) -> list[dict]:
    currency = str(order.total.currency)
    return [
        {
            "name": line.product_name[:127],
            "sku": line.sku[:127],
            "quantity": str(line.quantity),
            "unit_amount": {"currency_code": currency, "value": str(quantize(line.unit_price.amount, currency))},
        }
        for line in order.lines.all()
    ]


def paypal_order_body(*, order, payment, return_url: str, cancel_url: str, brand_name: str) -> dict:
    """The Orders v2 create request for one payment attempt of an order.

    Card online (PAY-FRAUD-CHECK) goes through the same PayPal order with the guest card form
    as the landing page: PayPal processes the card, the shop never sees it.
    """
    items = paypal_items(order)
    unit = {
        "reference_id": order.number,
        "custom_id": order.number,
        # Unique per attempt: PayPal refuses a second capture with an invoice id it has seen.
        "invoice_id": f"{order.number}-{payment.pk}",
        "description": f"{brand_name} order {order.number}"[:127],
        "amount": paypal_amount(order),
    }
    if items:
        unit["items"] = items
    landing = "GUEST_CHECKOUT" if payment.method == PaymentMethod.CARD_ONLINE else "LOGIN"
    return {
        "intent": "CAPTURE",
        "purchase_units": [unit],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "brand_name": brand_name[:127],
                    # PayPal's pages speak the language the customer ordered in.
                    "locale": {"ru": "ru-RU"}.get(order.language, "en-US"),
                    "shipping_preference": "NO_SHIPPING",
                    "user_action": "PAY_NOW",
                    "landing_page": landing,
                    "return_url": return_url,
                    "cancel_url": cancel_url,
                }
            }
        },
    }


def approve_link(paypal_order: dict) -> str:
    for link in paypal_order.get("links") or []:
        if link.get("rel") in {"payer-action", "approve"}:
            return link.get("href", "")
    return ""


def first_capture(paypal_order: dict) -> dict | None:
    """The capture in an Orders v2 answer (one purchase unit, one capture), or None."""
    for unit in paypal_order.get("purchase_units") or []:
        captures = (unit.get("payments") or {}).get("captures") or []
        if captures:
            return captures[0]
    return None


def to_money(amount: dict | None) -> Money | None:
    if not amount or "value" not in amount:
        return None
    currency = amount.get("currency_code") or amount.get("currency")
    return Money(quantize(Decimal(str(amount["value"])), currency), currency)
