"""Every customer page at 390×844 (a phone): nothing scrolls sideways, and axe-core finds no serious or
critical accessibility violation. axe-core is vendored (tests/e2e/vendor/axe.min.js, MPL-2.0)."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e import pages
from tests.e2e.test_paypal import CUSTOMER


def _check(page, problems: dict, name: str) -> None:
    page.wait_for_load_state("load")
    found = []
    overflow = pages.horizontal_overflow(page)
    if overflow:
        found.append(f"{overflow}px wider than the phone")
    found += pages.serious_axe_violations(page)
    if found:
        problems[f"{name} ({page.url})"] = found


def test_every_customer_page_fits_a_phone_and_passes_axe(browser, shop):
    context = browser.new_context(viewport=pages.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    pages.load_axe(page)
    problems: dict[str, list[str]] = {}
    try:
        # A visitor: catalogue, a filtered and sorted search, a product, pages without an account.
        pages.open_catalogue(page, shop)
        _check(page, problems, "catalogue")
        page.goto(shop + "/?q=binocular&category=binoculars&price_max=30000&in_stock=on&sort=-price")
        expect(page.get_by_text(re.compile(r"\d+ results? for “binocular”"))).to_be_visible()
        _check(page, problems, "search with filters")
        for path, name in [
            (reverse("login"), "log in"),
            (reverse("register"), "register"),
            (reverse("password_reset"), "password reset"),
            (reverse("orders:track"), "track an order"),
            ("/no-such-page/", "404 page"),
        ]:
            page.goto(shop + path)
            _check(page, problems, name)

        # A customer: product, cart, the four checkout steps, the order page, account pages.
        pages.log_in(page, shop, "customer", "customer-demo-2026")
        pages.open_product(page, shop, "Sturman 8x42 Roof Prism Binocular")
        expect(page.locator("#delivery-promise")).to_contain_text("ships by")
        _check(page, problems, "product")
        pages.add_this_product(page, 1)
        pages.add_to_cart(page, shop, "Celestron NexStar 6SE GoTo", 1)
        pages.open_cart(page)
        _check(page, problems, "cart")
        pages.start_checkout(page)
        _check(page, problems, "checkout: contact")
        pages.fill_contact(page, **CUSTOMER)
        page.get_by_role("button", name="Continue to delivery").click()
        pages.expect_heading(page, re.compile(r"^Delivery to "))
        _check(page, problems, "checkout: delivery")
        page.get_by_role("button", name="Continue to payment").click()
        pages.expect_heading(page, "Payment")
        _check(page, problems, "checkout: payment")
        pages.choose_payment(page, "Bank transfer")
        _check(page, problems, "checkout: review")
        # The totals are on screen where the customer confirms.
        total = page.locator(".order-total")
        total.scroll_into_view_if_needed()
        box = total.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= pages.PHONE["width"], box
        pages.confirm_order(page)
        _check(page, problems, "order page")
        number = re.search(r"/orders/([^/]+)/", page.url).group(1)
        for path, name in [
            (reverse("orders:list"), "my orders"),
            (reverse("orders:points"), "bonus points"),
            (reverse("cases:withdraw", args=[number]), "withdraw from the purchase"),
            (reverse("account"), "my account"),
            (reverse("profile"), "profile"),
            (reverse("address_add"), "new address"),
        ]:
            response = page.goto(shop + path)
            assert response is not None and response.ok, (name, response and response.status)
            _check(page, problems, name)
    finally:
        context.close()

    assert problems == {}, "\n".join(f"{page}: {'; '.join(found)}" for page, found in problems.items())
