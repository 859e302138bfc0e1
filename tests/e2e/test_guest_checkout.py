"""A guest buys with cash on delivery (ORD-ACK, ORD-FIELDS) through the real browser, once in Russian and once in
English (issue #12): the header switch sets the language, and the pages, the acknowledgement and its PDF invoice
speak it."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Order
from shop.models import Category, Product
from shop.money import format_money
from tests.e2e import pages

SWITCH = {"ru": "Русский", "en": "English"}
#: The guest writes the address in the script of the language they shop in (one script per order).
GUEST = {
    "ru": {
        **pages.GUEST,
        "full_name": "Иван Сергеевич Смирнов",
        "address": "Тверская улица, дом 7, кв. 12",
        "city": "Москва",
        "region": "Москва",
    },
    "en": pages.GUEST,
}


@pytest.mark.parametrize("switched_to", ["ru", "en"])
def test_guest_browses_searches_buys_three_products_cash_on_delivery_ORD_ACK(page, shop, switched_to):
    """ORD-ACK: the guest sees the confirmation and gets the acknowledgement with the PDF invoice. The browser
    speaks English; the guest picks the language with the header's switch."""
    language = switched_to
    pages.open_catalogue(page, shop)
    pages.switch_language(page, SWITCH[language])
    with translation.override(language):
        binoculars = Category.objects.get(slug="binoculars").name
        yukon, microscope, kit = (
            Product.objects.get(sku=sku).name for sku in ("BN-YUK-0825", "MS-LEV-R2L", "AC-CLN-KIT")
        )
        pages.expect_heading(page, _("Catalogue"))

        # Browse a category, then search.
        page.get_by_role("link", name=binoculars, exact=True).click()
        pages.expect_heading(page, binoculars)
        page.get_by_role("link", name=yukon).click()
        pages.expect_heading(page, yukon)
        expect(
            page.get_by_text(
                _(
                    "Pictures and descriptions are for reference only and may differ slightly from the goods you "
                    "receive. Have a question about this product? Please ask us before ordering:"
                )[:40]
            )
        ).to_be_visible()
        pages.add_this_product(page, 1)

        pages.open_catalogue(page, shop)
        pages.search(page, "Rainbow")
        expect(page.locator("p.muted").filter(has_text="Rainbow")).to_be_visible()  # "1 result for …"
        page.get_by_role("link", name=microscope).click()
        pages.add_this_product(page, 1)

        pages.add_to_cart(page, shop, kit, 1)

        # Change a quantity in the cart.
        pages.open_cart(page)
        pages.set_cart_quantity(page, kit, 2)
        expect(page.get_by_label(_("Quantity for %(name)s") % {"name": kit})).to_have_value("2")
        total_row = _("Total (%(counter)s items)") % {"counter": 4} if language == "en" else "Итого (4 товара)"
        expect(page.get_by_role("row", name=re.compile(re.escape(total_row)))).to_be_visible()

        number = pages.checkout_as_guest(page, payment="Cash to the courier", details=GUEST[language])

        placed = _("Thank you! Your order %(number)s is placed.") % {"number": number}
        expect(page.get_by_role("status").filter(has_text=placed)).to_be_visible()
        for name in (yukon, microscope, kit):
            expect(page.get_by_role("cell", name=re.compile(re.escape(name)))).to_be_visible()
        order = Order.objects.get(number=number)
        assert order.email == pages.GUEST["email"]
        assert order.payment_method == "cash_courier"
        assert order.language == language
        collects = _("The courier will collect %(amount)s at the door, in cash or by card as you chose.") % {
            "amount": format_money(order.total)
        }
        expect(page.get_by_test_id("courier-collects")).to_have_text(collects)

        # The acknowledgement with the invoice, in the language of the order, whose text carries the order number.
        messages = pages.emails_to(pages.GUEST["email"])
        acknowledgements = [m for m in messages if number in m.subject]
        assert acknowledgements, [m.subject for m in messages]
        assert acknowledgements[0].subject.startswith(
            _("Your order %(number)s at %(shop)s").split("%(shop)s")[0] % {"number": number}
        )
        assert collects in acknowledgements[0].body
        invoices = pages.pdf_attachments(acknowledgements[0])
        assert len(invoices) == 1
        name, content = invoices[0]
        assert name.endswith(".pdf")
        text = pages.pdf_text(content)
        assert number in text and (_("Invoice %(number)s") % {"number": number}) in text
        assert f"{GUEST[language]['postcode']} {GUEST[language]['city']}" in text
        assert GUEST[language]["region"] in text  # the region in the same script as the city
