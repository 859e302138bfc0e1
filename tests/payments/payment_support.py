"""Helpers for the payments tests (not a test module)."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlsplit

from django.urls import reverse
from djmoney.money import Money

from payments.models import Payment
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory


def rub(amount) -> Money:
    return Money(Decimal(str(amount)), "RUB")


def make_order(*, lines=((Decimal("4990.00"), 1),), delivery="350.00", discount="0", stock=10, **kwargs):
    """An order whose stored totals match its lines: ``lines`` is ((unit price, quantity), ...)."""
    subtotal = sum((Decimal(str(price)) * qty for price, qty in lines), Decimal("0"))
    kwargs.setdefault("status", "awaiting_payment")
    kwargs.setdefault("payment_method", "paypal")
    if "user" not in kwargs:
        kwargs["user"] = UserFactory()
    order = OrderFactory(
        subtotal=rub(subtotal),
        delivery_cost=rub(delivery),
        discount=rub(discount),
        total=rub(subtotal + Decimal(delivery) - Decimal(discount)),
        **kwargs,
    )
    for i, (price, qty) in enumerate(lines):
        product = ProductFactory(stock=stock, price=rub(price), name=f"Binocular {i + 1} 10x42")
        OrderLineFactory(order=order, product=product, unit_price=rub(price), quantity=qty)
    return order


def completed_payment(order, **kwargs) -> Payment:
    """A PayPal payment of the order's total, captured in full (fields overridable)."""
    defaults = {
        "method": order.payment_method,
        "gateway": "paypal",
        "status": "completed",
        "amount": order.total,
        "captured_amount": order.total,
        "refunded_amount": Money(0, "RUB"),
    }
    return Payment.objects.create(order=order, **{**defaults, **kwargs})


def cod_order_paid_at_door(**kwargs):
    """A cash-on-delivery order whose courier has collected the full total (a captured payment)."""
    from payments import services

    order = make_order(status="processing", payment_method="cash_courier", **kwargs)
    services.payment_record_at_door(
        order_id=order.pk,
        method="cash_courier",
        amount=order.total,
        id_document_checked=False,
        card_unnamed=False,
        actor=None,
    )
    return order


def path_of(url: str) -> str:
    """The path and query of an absolute URL, for Django's test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start_paypal(client, order) -> Payment:
    """The customer presses "Pay": the shop creates the PayPal order and redirects to its approve link."""
    client.force_login(order.user)
    response = client.post(reverse("payments:start", kwargs={"number": order.number}))
    assert response.status_code == 302, response.content
    payment = order.payments.get()
    assert response["Location"] == payment.approve_url
    return payment


def approve_and_return(client, standin, payment, *, follow=True):
    """The payer approves at PayPal and the browser comes back to the shop's return URL."""
    redirect = standin.approve(payment.paypal_order_id)["redirect_url"]
    return client.get(path_of(redirect), follow=follow)


def capture_requests(standin, *, at_least: int = 0, timeout: float = 5.0) -> list[dict]:
    """The capture calls the stand-in logged (a held-back answer is logged once it is finally sent)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in standin.requests() if r["method"] == "POST" and r["path"].endswith("/capture")]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
