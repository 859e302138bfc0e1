"""Paying with PayPal through the stand-in's approval page (PAY-PAYPAL, SHIP-PROCESSING-TIME), in Russian and
in English (the stand-in's own page is PayPal's, in English)."""

import re

from django.core import mail
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Order
from shop.calendar import BusinessCalendar
from shop.models import Policy
from shop.money import format_money
from tests.e2e import pages

CUSTOMER = {
    "full_name": "Anna Petrova",
    "email": "customer@example.com",
    "phone": "+7 916 765-43-21",
    "address": "Nevsky prospekt 28, flat 3",
    "city": "Saint Petersburg",
    "postcode": "191186",
    "region": "Saint Petersburg",
}


def test_registered_customer_pays_with_paypal_and_sees_the_paid_order_in_my_orders_PAY_PAYPAL(
    page, shop, paypal, language
):
    """PAY-PAYPAL + SHIP-PROCESSING-TIME: approve at PayPal, back on the shop the order is paid and
    "My orders" lists it; its page gives the 1–3 business days processing estimate."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    pages.add_to_cart(page, shop, "Sturman 8x42 Roof Prism Binocular", 1)
    pages.open_cart(page)
    pages.checkout_to_payment(page, CUSTOMER)
    pages.choose_payment(page, "PayPal")
    page.get_by_role("button", name=_("Confirm order")).click()

    pages.expect_paypal_page(page)
    page.get_by_role("button", name="Approve").click()

    number = pages.order_number_on_heading(page)
    expect(page.get_by_role("status").filter(has_text=_("Payment received. Thank you!"))).to_be_visible()
    expect(page.locator(".order-status")).to_have_text(_("Processing"))
    expect(page.locator(".payment-status")).to_have_text(_("Paid"))
    order = Order.objects.get(number=number)
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.user.username == "customer"
    assert order.paid_at is not None
    # PAY-PAYPAL + SHIP-WITHIN-2BD: the confirmation starts the shipping clock, two business days.
    policy = Policy.load()
    assert policy.ship_within_days == 2
    assert order.ship_by == BusinessCalendar.current().add_business_days(order.paid_at, policy.ship_within_days)
    # ORD-ACK: the acknowledgement (with the invoice) goes out once the payment is in, and says so.
    assert order.language == language
    subject = _("Your order %(number)s at %(shop)s") % {"number": number, "shop": "Rusoptics"}
    acks = [m for m in mail.outbox if m.subject == subject]
    assert len(acks) == 1, [m.subject for m in mail.outbox]
    received = pages.prefix("Payment received: %(amount)s on %(date)s", "date") % {"amount": format_money(order.total)}
    assert received in acks[0].body
    assert acks[0].attachments[0][0] == f"invoice-{number}.pdf"

    pages.open_my_orders(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row.get_by_text(_("Paid"), exact=True)).to_be_visible()
    row.get_by_role("link", name=number).click()
    pages.expect_heading(page, _("Order %(number)s") % {"number": number})
    processing = _("Processing: %(low)s–%(high)s business days") % {"low": 1, "high": 3}
    expect(page.get_by_text(re.compile(re.escape(processing)))).to_be_visible()
    expect(page.get_by_role("heading", name=_("Payments"))).to_be_visible()


def test_customer_cancels_at_paypal_then_pays_on_the_second_try_PAY_PAYPAL(page, shop, paypal, language):
    """PAY-PAYPAL: "Cancel" on PayPal's page returns to the unpaid order; "Pay with PayPal" again works."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    pages.add_to_cart(page, shop, "Sky-Watcher Heritage 130P Tabletop Dobsonian", 1)
    pages.open_cart(page)
    pages.checkout_to_payment(page, CUSTOMER)
    pages.choose_payment(page, "PayPal")
    page.get_by_role("button", name=_("Confirm order")).click()

    pages.expect_paypal_page(page)
    page.get_by_role("button", name="Cancel").click()

    number = pages.order_number_on_heading(page)
    cancelled = _(
        "You cancelled the payment at PayPal. Your order is waiting for it: press “Pay with PayPal” to try again."
    )
    expect(page.get_by_text(cancelled)).to_be_visible()
    expect(page.locator(".order-status")).to_have_text(_("Awaiting payment"))
    assert Order.objects.get(number=number).status == Order.Status.AWAITING_PAYMENT

    page.get_by_role("button", name=_("Pay with PayPal")).click()
    pages.expect_paypal_page(page)
    page.get_by_role("button", name="Approve").click()

    pages.expect_heading(page, _("Order %(number)s") % {"number": number})
    expect(page.get_by_role("status").filter(has_text=_("Payment received. Thank you!"))).to_be_visible()
    expect(page.locator(".order-status")).to_have_text(_("Processing"))
    expect(page.locator(".payment-status")).to_have_text(_("Paid"))
    assert Order.objects.get(number=number).payment_status == "paid"
