"""PAY-DISCOUNTS in the browser: a code typed at checkout, paid with PayPal, the same total everywhere (in Russian
and in English)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Discount, Order
from shop.money import format_money
from tests.e2e import pages
from tests.e2e.test_paypal import CUSTOMER


def test_customer_types_a_code_pays_with_paypal_and_sees_one_discounted_total_PAY_DISCOUNTS(
    page, shop, paypal, language
):
    """PAY-DISCOUNTS: a bad code is refused next to the field; the good one shows on the review page, and
    PayPal's approval page, the order page and the invoice show the same discounted total."""
    Discount.objects.create(
        name="Winter sale",
        code="WINTER10",
        kind="percent",
        value=Decimal("10"),
        ends_at=timezone.now() + dt.timedelta(30),
    )
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    pages.add_to_cart(page, shop, "Sturman 8x42 Roof Prism Binocular", 1)
    pages.open_cart(page)
    pages.checkout_to_payment(page, CUSTOMER)

    pages.type_discount_code(page, "SUMMER")
    page.get_by_label(_("PayPal")).check()
    page.get_by_role("button", name=_("Review the order")).click()
    unknown = _("That code does not exist. Please check its spelling.")
    expect(pages.field_box(page, _("Discount code")).get_by_text(unknown)).to_be_visible()

    pages.type_discount_code(page, "winter10")
    pages.choose_payment(page, "PayPal")
    expect(page.locator(".discount-line").filter(has_text="Winter sale (−10 %)")).to_be_visible()
    review_total = page.locator(".order-total").inner_text()

    page.get_by_role("button", name=_("Confirm order")).click()
    pages.expect_paypal_page(page)
    order = Order.objects.get(user__username="customer", discount__gt=0)
    assert order.discount_lines.get().label == "Winter sale (−10 %)"
    expect(page.get_by_test_id("amount")).to_have_text(review_total)  # written the same way (shop.money.format_money)
    page.get_by_role("button", name="Approve").click()

    pages.order_number_on_heading(page)
    expect(page.get_by_role("status").filter(has_text=_("Payment received. Thank you!"))).to_be_visible()
    expect(page.locator(".order-total")).to_have_text(review_total)
    expect(page.locator(".discount-line").filter(has_text="Winter sale (−10 %)")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name=_("Download invoice (PDF)")).click()
    text = pages.pdf_text(Path(download.value.path()).read_bytes())
    assert "Winter sale (−10 %)" in text
    # pdftotext writes the no-break spaces of Russian amounts as plain spaces; the invoice's columns name the
    # currency in their heading, so the figures are looked for without it.
    total, discount = (format_money(money).replace("\xa0", " ") for money in (order.total, order.discount))
    assert review_total.replace("\xa0", " ") == total
    for amount in (total, discount):
        assert amount.replace("RUB", "").replace("₽", "").strip() in text, (amount, text)
