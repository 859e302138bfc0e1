"""Checkout rules a shopper runs into: PAY-PREPAY-THRESHOLD and ORD-FIELDS."""

import re

from playwright.sync_api import expect

from orders.models import Order
from tests.e2e import pages


def test_cart_over_60000_rub_is_not_offered_cash_on_delivery_PAY_PREPAY_THRESHOLD(page, shop):
    """PAY-PREPAY-THRESHOLD: 60,880 RUB of goods; the courier methods are gone and the page says why."""
    pages.add_to_cart(page, shop, "Sky-Watcher Skyliner 200P Dobsonian", 1)  # 59,990 RUB
    pages.add_to_cart(page, shop, "Optics Cleaning Kit", 1)  # 890 RUB
    pages.open_cart(page)

    pages.checkout_to_payment(page)

    expect(page.get_by_label("Bank card online")).to_be_visible()
    expect(page.get_by_label("Bank transfer")).to_be_visible()
    expect(page.get_by_label("Cash to the courier")).to_have_count(0)
    expect(page.get_by_label("Card to the courier")).to_have_count(0)
    expect(
        page.get_by_text("Cash to the courier is not available: orders of RUB 60,000.00 or more must be prepaid.")
    ).to_be_visible()
    expect(
        page.get_by_text("Card to the courier is not available: orders of RUB 60,000.00 or more must be prepaid.")
    ).to_be_visible()


def test_bad_checkout_input_shows_messages_next_to_the_fields_and_creates_no_order_ORD_FIELDS(page, shop):
    """ORD-FIELDS: every bad field gets its own message beside it; nothing is ordered."""
    pages.add_to_cart(page, shop, "Yukon Pocket 8x25 Compact", 1)
    pages.open_cart(page)
    pages.start_checkout(page)

    pages.fill_contact(
        page,
        full_name="   ",
        email="ivan at example",
        phone="12",
        address="Tverskaya street 7, flat 12",
        city="Moscow",
        postcode="!!",
    )
    page.get_by_role("button", name="Continue to delivery").click()

    pages.expect_heading(page, "Contact and delivery address")
    expected = {
        "Full name of the recipient": "Please enter the recipient's full name.",
        "E-mail": "Please enter a valid e-mail address, such as anna@example.com.",
        "Phone": "This does not look like a phone number. Please check the digits and the country code.",
        "Postcode": "Please enter a valid postcode, such as 101000.",
        "Region": "Please choose the region to deliver to.",
    }
    for label, message in expected.items():
        field = pages.field_box(page, label)
        expect(field.get_by_text(message)).to_be_visible()
    # Fields typed correctly keep their value and carry no message.
    expect(page.get_by_label("Street address")).to_have_value("Tverskaya street 7, flat 12")
    expect(pages.field_box(page, "City").get_by_role("alert")).to_have_count(0)
    assert Order.objects.count() == 0

    # Fixing them moves on; still nothing is ordered before "Confirm order".
    pages.fill_contact(page, **pages.GUEST)
    page.get_by_role("button", name="Continue to delivery").click()
    pages.expect_heading(page, re.compile(r"^Delivery to Moscow"))
    assert Order.objects.count() == 0
