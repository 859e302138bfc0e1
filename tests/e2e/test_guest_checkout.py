"""A guest buys with cash on delivery (ORD-ACK, ORD-FIELDS) through the real browser."""

import re

from playwright.sync_api import expect

from orders.models import Order
from tests.e2e import pages


def test_guest_browses_searches_buys_three_products_cash_on_delivery_ORD_ACK(page, shop):
    """ORD-ACK: the guest sees the confirmation and gets the acknowledgement with the PDF invoice."""
    pages.open_catalogue(page, shop)

    # Browse a category, then search.
    page.get_by_role("link", name="Binoculars", exact=True).click()
    pages.expect_heading(page, "Binoculars")
    page.get_by_role("link", name="Yukon Pocket 8x25 Compact").click()
    pages.expect_heading(page, "Yukon Pocket 8x25 Compact")
    expect(page.get_by_text("Pictures and descriptions are for reference only")).to_be_visible()
    pages.add_this_product(page, 1)

    pages.open_catalogue(page, shop)
    pages.search(page, "microscope")
    expect(page.get_by_text(re.compile(r"\d+ results? for “microscope”"))).to_be_visible()
    page.get_by_role("link", name="Levenhuk Rainbow 2L Biological Microscope").click()
    pages.add_this_product(page, 1)

    pages.add_to_cart(page, shop, "Optics Cleaning Kit", 1)

    # Change a quantity in the cart.
    pages.open_cart(page)
    pages.set_cart_quantity(page, "Optics Cleaning Kit", 2)
    expect(page.get_by_label("Quantity for Optics Cleaning Kit")).to_have_value("2")
    expect(page.get_by_role("row", name=re.compile(r"Total \(4 items\)"))).to_be_visible()

    number = pages.checkout_as_guest(page, payment="Cash to the courier")

    expect(page.get_by_role("status").filter(has_text=f"Thank you! Your order {number} is placed.")).to_be_visible()
    for name in ("Yukon Pocket 8x25 Compact", "Levenhuk Rainbow 2L Biological Microscope", "Optics Cleaning Kit"):
        expect(page.get_by_role("cell", name=re.compile(re.escape(name)))).to_be_visible()
    order = Order.objects.get(number=number)
    assert order.email == pages.GUEST["email"]
    assert order.payment_method == "cash_courier"

    # The acknowledgement with the invoice, whose text carries the order number.
    messages = pages.emails_to(pages.GUEST["email"])
    acknowledgements = [m for m in messages if number in m.subject]
    assert acknowledgements, [m.subject for m in messages]
    invoices = pages.pdf_attachments(acknowledgements[0])
    assert len(invoices) == 1
    name, content = invoices[0]
    assert name.endswith(".pdf")
    assert number in pages.pdf_text(content)
