"""Checkout rules a shopper runs into: PAY-PREPAY-THRESHOLD and ORD-FIELDS, in Russian and in English."""

import re
from decimal import Decimal

from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Order
from shop.money import format_money
from tests.e2e import pages


def test_cart_over_60000_rub_is_not_offered_cash_on_delivery_PAY_PREPAY_THRESHOLD(page, shop, language):
    """PAY-PREPAY-THRESHOLD: 60,880 RUB of goods; the courier methods are gone and the page says why."""
    pages.add_to_cart(page, shop, "Sky-Watcher Skyliner 200P Dobsonian", 1)  # 59,990 RUB
    pages.add_to_cart(page, shop, "Optics Cleaning Kit", 1)  # 890 RUB
    pages.open_cart(page)

    pages.checkout_to_payment(page)

    expect(page.get_by_label(_("Bank card online"))).to_be_visible()
    expect(page.get_by_label(_("Bank transfer"))).to_be_visible()
    expect(page.get_by_label(_("Cash to the courier"))).to_have_count(0)
    expect(page.get_by_label(_("Card to the courier"))).to_have_count(0)
    prepaid = _("orders of %(limit)s or more must be prepaid.") % {"limit": format_money(Decimal("60000"), "RUB")}
    for method in ("Cash to the courier", "Card to the courier"):
        refusal = _("%(method)s is not available: %(reason)s") % {"method": _(method), "reason": prepaid}
        expect(page.get_by_text(refusal)).to_be_visible()


def test_bad_checkout_input_shows_messages_next_to_the_fields_and_creates_no_order_ORD_FIELDS(page, shop, language):
    """ORD-FIELDS: every bad field gets its own message beside it; nothing is ordered."""
    pages.add_to_cart(page, shop, "Yukon Pocket 8x25 Compact", 1)
    pages.open_cart(page)
    pages.start_checkout(page)

    street = pages.written(pages.GUEST)["address"]
    pages.fill_contact(
        page,
        full_name="   ",
        email="ivan at example",
        phone="12",
        address=street,
        city=pages.GUEST["city"],
        postcode="!!",
    )
    page.get_by_role("button", name=_("Continue to delivery")).click()

    pages.expect_heading(page, _("Contact and delivery address"))
    expected = {
        "Full name of the recipient": "Please enter the recipient's full name.",
        "E-mail": "Please enter a valid e-mail address, such as anna@example.com.",
        "Phone": "This does not look like a phone number. Please check the digits and the country code.",
        "Postcode": "Please enter a valid postcode, such as 101000.",
        "Region": "Please choose the region to deliver to.",
    }
    for label, message in expected.items():
        field = pages.field_box(page, _(label))
        expect(field.get_by_text(_(message))).to_be_visible()
    # Fields typed correctly keep their value and carry no message.
    expect(page.get_by_label(_("Street address"))).to_have_value(street)
    expect(pages.field_box(page, _("City")).get_by_role("alert")).to_have_count(0)
    assert Order.objects.count() == 0

    # Fixing them moves on; still nothing is ordered before "Confirm order".
    pages.fill_contact(page, **pages.GUEST)
    page.get_by_role("button", name=_("Continue to delivery")).click()
    delivery_to = _("Delivery to %(region)s") % {"region": pages.written(pages.GUEST)["region"]}
    pages.expect_heading(page, re.compile("^" + re.escape(delivery_to)))
    assert Order.objects.count() == 0
