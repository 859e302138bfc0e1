"""Every customer page at 390×844 (a phone): nothing scrolls sideways, and axe-core finds no serious or
critical accessibility violation; in Russian and in English (a phone whose browser speaks the language). Also
the pages the e-mails' signed links open: the answer to a corrected price, the choice when an item is out of
stock, the bank account for a refund. axe-core is vendored (tests/e2e/vendor/axe.min.js, MPL-2.0)."""

import re
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders import holds
from orders import services as order_services
from orders.access import order_link
from orders.models import HoldKind
from payments import services as payment_services
from payments.services import payment_record_bank_transfer
from shop.models import Product
from tests.e2e import pages
from tests.e2e.conftest import BROWSER_LOCALES
from tests.e2e.test_paypal import CUSTOMER
from tests.payments.payment_support import cod_order_paid_at_door, make_order


def _check(page, problems: dict, name: str) -> None:
    page.wait_for_load_state("load")
    found = []
    overflow = pages.horizontal_overflow(page)
    if overflow:
        found.append(f"{overflow}px wider than the phone")
    found += pages.serious_axe_violations(page)
    if found:
        problems[f"{name} ({page.url})"] = found


def _signed_link_pages(language: str) -> list[tuple[str, str]]:
    """Orders waiting for the customer, made through the services, and the signed links their e-mails carry."""
    priced = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 2)], language=language)
    order_services.order_price_error_mark(
        order_id=priced.pk, corrections={priced.lines.get().pk: Decimal("3990.00")}, actor=None
    )
    short = make_order(payment_method="bank_transfer", user=None, lines=[("1000.00", 3)], language=language)
    Product.objects.filter(pk=short.lines.get().product_id).update(stock=1)
    payment_record_bank_transfer(
        order_id=short.pk, amount=short.total, credited_on=short.created_at.date(), reference="E2E", actor=None
    )
    refunded = cod_order_paid_at_door(language=language)
    payment_services.refund_issue(order_id=refunded.pk, amount=refunded.total, reason="Returned.")
    assert holds.open_kinds(priced) == {HoldKind.PRICE_CONFIRMATION}
    assert holds.open_kinds(short) == {HoldKind.STOCK_DECISION}
    return [
        (order_link(priced, absolute=False, view="price:answer"), "signed link: corrected price"),
        (order_link(short, absolute=False, view="shipping:stockout_answer"), "signed link: item out of stock"),
        (order_link(refunded, absolute=False, view="payments:refund_account"), "signed link: refund bank account"),
    ]


def test_every_customer_page_fits_a_phone_and_passes_axe(browser, shop, server_turn, language):
    with server_turn:
        signed_links = _signed_link_pages(language)
    context = browser.new_context(
        viewport=pages.PHONE, is_mobile=True, has_touch=True, locale=BROWSER_LOCALES[language]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    pages.load_axe(page)
    problems: dict[str, list[str]] = {}
    try:
        # A visitor: catalogue, a filtered and sorted search, a product, pages without an account.
        pages.open_catalogue(page, shop)
        _check(page, problems, "catalogue")
        page.goto(shop + "/?q=binocular&category=binoculars&price_max=30000&in_stock=on&sort=-price")
        results = page.locator("p.muted").filter(has_text=re.compile(r"^\d+ .*binocular"))  # "5 results for …"
        expect(results).to_be_visible()
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
        for path, name in signed_links:  # a visitor following the link in an e-mail
            response = page.goto(shop + path)
            assert response is not None and response.ok, (name, response and response.status)
            _check(page, problems, name)

        # A customer: product, cart, the four checkout steps, the order page, account pages.
        pages.log_in(page, shop, "customer", "customer-demo-2026")
        pages.open_product(page, shop, "Sturman 8x42 Roof Prism Binocular")
        expect(page.locator("#delivery-promise")).to_contain_text(
            _("ships by <strong>%(date)s</strong>").split("<strong>")[0].strip()
        )
        _check(page, problems, "product")
        pages.add_this_product(page, 1)
        pages.add_to_cart(page, shop, "Celestron NexStar 6SE GoTo", 1)
        pages.open_cart(page)
        _check(page, problems, "cart")
        pages.start_checkout(page)
        _check(page, problems, "checkout: contact")
        pages.fill_contact(page, **CUSTOMER)
        page.get_by_role("button", name=_("Continue to delivery")).click()
        pages.expect_heading(page, re.compile("^" + re.escape(pages.prefix("Delivery to %(region)s", "region"))))
        _check(page, problems, "checkout: delivery")
        page.get_by_role("button", name=_("Continue to payment")).click()
        pages.expect_heading(page, _("Payment"))
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
