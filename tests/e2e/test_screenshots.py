"""README screenshots: ``make screenshots`` (or ``SHOP_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_screenshots.py``).

Walks the demo shop like the journeys do and writes ``docs/screenshots/*.png`` at 1280×900 (and one
at a phone's 390×844).
Without ``SHOP_SCREENSHOTS=1`` the test is skipped on purpose: it rewrites files in the
repository, so an ordinary test run must not touch them.
"""

import os
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from shop.models import Product
from tests.e2e import pages
from tests.e2e.conftest import REPO_DIR, VIEWPORT
from tests.e2e.test_paypal import CUSTOMER

SCREENSHOTS_DIR = REPO_DIR / "docs" / "screenshots"

pytestmark = [
    pytest.mark.screenshots,
    pytest.mark.skipif(
        os.environ.get("SHOP_SCREENSHOTS") != "1",
        reason="regenerates docs/screenshots/*.png; run `make screenshots` (SHOP_SCREENSHOTS=1) to do it",
    ),
]


def _shot(page, name: str) -> Path:
    page.set_viewport_size(VIEWPORT)
    return _shot_here(page, name)


def _shot_here(page, name: str) -> Path:
    """The viewport as it is now scrolled."""
    page.mouse.move(0, 0)  # no hover effects in the picture
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


#: README shows the shop in Russian (issue #12): the customer switches to Russian and writes in Cyrillic.
CUSTOMER_RU = {
    **CUSTOMER,
    "full_name": "Анна Петрова",
    "address": "Невский проспект, дом 28, кв. 3",
    "city": "Санкт-Петербург",
    "region": "Санкт-Петербург",
}


def test_readme_screenshots(page, shop, paypal):
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    pages.open_catalogue(page, shop)
    pages.switch_language(page, "Русский")
    with translation.override("ru"):
        _readme_screenshots(page, shop)


def _readme_screenshots(page, shop):
    written = []
    pages.expect_heading(page, _("Catalogue"))
    written.append(_shot(page, "01-catalogue"))
    sturman, kit, strap = (Product.objects.get(sku=sku).name for sku in ("BN-STU-0842", "AC-CLN-KIT", "AC-STR-HRN"))

    pages.log_in(page, shop, "customer", "customer-demo-2026")
    pages.open_product(page, shop, sturman)
    written.append(_shot(page, "02-product"))
    page.set_viewport_size(pages.PHONE)  # the same product page on a phone: picture, price, delivery promise
    written.append(_shot_here(page, "10-phone-product"))
    pages.add_this_product(page, 1)
    pages.add_to_cart(page, shop, kit, 2)
    pages.add_to_cart(page, shop, strap, 1)
    pages.open_cart(page)
    written.append(_shot(page, "03-cart"))

    pages.checkout_to_payment(page, CUSTOMER_RU)
    written.append(_shot(page, "04-checkout-payment"))
    pages.choose_payment(page, "PayPal")
    written.append(_shot(page, "05-checkout-review"))
    page.get_by_role("button", name=_("Confirm order")).click()
    pages.expect_paypal_page(page)
    written.append(_shot(page, "06-paypal-standin"))
    page.get_by_role("button", name="Approve").click()
    number = pages.order_number_on_heading(page)
    expect(page.locator(".order-status")).to_have_text(_("Processing"))
    expect(page.locator(".payment-status")).to_have_text(_("Paid"))
    written.append(_shot(page, "07-order-paid"))

    pages.log_out(page)
    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_open_order(page, shop, number)
    written.append(_shot(page, "08-admin-order"))
    timeline = page.get_by_role("heading", name=capfirst(_("timeline")))
    timeline.evaluate("el => { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -16); }")
    written.append(_shot_here(page, "09-admin-timeline"))

    for path in written:
        size = path.stat().st_size
        assert size < 300_000, f"{path.name} is {size} bytes; keep README images under 300 KB"
    print("\n".join(str(path) for path in written))
