"""Page helpers for the journeys: what a person does, found by visible label or role.

Each helper takes the Playwright ``page`` (and the live server's base URL where it navigates)
and leaves the browser on the page a person would see next. Keep them small; if a label in a
template changes, this is the one place to follow it.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from django.core import mail
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import Page, expect

from shop.models import Product, Region

# Labels go through gettext: a journey run inside ``translation.override("ru")`` (the ``language`` fixture,
# or after pressing the header's "Русский") finds the Russian labels with the same helpers. Products and
# regions may be named in English: the helpers look for the name the active language shows.


# --- mail and PDF ----------------------------------------------------------------------------
def emails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address.lower() in (to.lower() for to in message.to)]


def pdf_attachments(message: mail.EmailMessage) -> list[tuple[str, bytes]]:
    found = []
    for attachment in message.attachments:
        if isinstance(attachment, tuple):
            name, content, mimetype = attachment
        else:  # a MIMEBase part
            name, content, mimetype = (
                attachment.get_filename(),
                attachment.get_payload(decode=True),
                attachment.get_content_type(),
            )
        if mimetype == "application/pdf":
            found.append((name, content))
    return found


def pdf_text(content: bytes) -> str:
    """The text of a PDF as ``pdftotext`` (poppler-utils) reads it; fails if it is not a PDF."""
    assert content.startswith(b"%PDF-"), "not a PDF"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(content)
        result = subprocess.run(["pdftotext", "-layout", str(source), "-"], capture_output=True, check=True, timeout=30)
    return result.stdout.decode("utf-8")


ORDER_NUMBER = re.compile(r"RX-[A-Z0-9]{4}-[A-Z0-9]{4}")


def expect_heading(page: Page, text: str | re.Pattern) -> None:
    expect(page.get_by_role("heading", name=text).first).to_be_visible()


def prefix(message: str, name: str) -> str:
    """The words of a translated ``message`` before its ``%(name)s`` placeholder ("Order ", "Заказ ")."""
    return _(message).split(f"%({name})s")[0]


# --- storefront ------------------------------------------------------------------------------
def switch_language(page: Page, name: str) -> None:
    """The header's language switch ("Русский", "English"); the choice is remembered in a cookie."""
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("button", name=name, exact=True)).to_have_attribute("aria-current", "true")


def open_catalogue(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect_heading(page, _("Catalogue"))


def search(page: Page, words: str) -> None:
    page.get_by_label(_("Search"), exact=True).fill(words)
    page.get_by_role("button", name=_("Search"), exact=True).click()


def shown(product_name: str) -> str:
    """A product's name as the active language shows it; ``product_name`` may be its English name."""
    product = Product.objects.filter(name_en=product_name).first()
    return product.name if product else product_name


def open_product(page: Page, base_url: str, product_name: str) -> None:
    """Find a product the way a shopper does: search for its name and follow the link."""
    product_name = shown(product_name)
    open_catalogue(page, base_url)
    search(page, product_name)
    page.get_by_role("link", name=product_name, exact=True).click()
    expect_heading(page, product_name)


def add_to_cart(page: Page, base_url: str, product_name: str, qty: int = 1) -> None:
    """Open the product's page and add ``qty`` of it to the cart."""
    open_product(page, base_url, product_name)
    add_this_product(page, qty)


def add_this_product(page: Page, qty: int = 1) -> None:
    """On a product page: set the quantity and press "Add to cart"."""
    page.get_by_label(_("Quantity"), exact=True).fill(str(qty))
    page.get_by_role("button", name=_("Add to cart")).click()
    expect(page.get_by_role("status").first).to_be_visible()


def open_cart(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^" + re.escape(_("Cart")) + ":")).click()
    expect_heading(page, _("Your cart"))


def set_cart_quantity(page: Page, product_name: str, qty: int) -> None:
    """On the cart page: change one line's quantity and press that line's "Update"."""
    product_name = shown(product_name)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=product_name, exact=True))
    row.get_by_label(_("Quantity for %(name)s") % {"name": product_name}).fill(str(qty))
    row.get_by_role("button", name=_("Update")).click()


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label(_("Username")).fill(username)
    page.get_by_label(_("Password")).fill(password)
    page.get_by_role("button", name=_("Log in")).click()
    expect(page.get_by_role("button", name=_("Log out")).first).to_be_visible()


# --- checkout --------------------------------------------------------------------------------
GUEST = {
    "full_name": "Ivan Sergeyevich Smirnov",
    "email": "ivan.smirnov@example.com",
    "phone": "8 916 123-45-67",
    "address": "Tverskaya street 7, flat 12",
    "city": "Moscow",
    "postcode": "125009",
    "region": "Moscow",
}
#: A customer shopping in Russian writes the address in Cyrillic (one script per order).
CYRILLIC = {
    "Ivan Sergeyevich Smirnov": "Иван Сергеевич Смирнов",
    "Tverskaya street 7, flat 12": "Тверская улица, дом 7, кв. 12",
    "Moscow": "Москва",
    "Anna Petrova": "Анна Петрова",
    "Nevsky prospekt 28, flat 3": "Невский проспект, дом 28, кв. 3",
    "Saint Petersburg": "Санкт-Петербург",
}


def written(details: dict) -> dict:
    """Contact details as a customer shopping in the active language types them."""
    if translation.get_language() != "ru":
        return dict(details)
    return {key: CYRILLIC.get(value, value) for key, value in details.items()}


def fill_contact(page: Page, **details: str) -> None:
    """Checkout step 1. Pass only the fields to type; empty strings leave a field blank. Typed ``written()``;
    the region is chosen by its English or shown name."""
    details = written(details)
    labels = {
        "full_name": _("Full name of the recipient"),
        "email": _("E-mail"),
        "phone": _("Phone"),
        "address": _("Street address"),
        "city": _("City"),
        "postcode": _("Postcode"),
    }
    for key, label in labels.items():
        if key in details:
            page.get_by_label(label, exact=True).fill(details[key])
    if details.get("region"):
        region = Region.objects.filter(name_en=details["region"]).first()
        page.get_by_label(_("Region")).select_option(label=region.name if region else details["region"])


def start_checkout(page: Page) -> None:
    """From the cart page."""
    page.get_by_role("link", name=_("Checkout"), exact=True).click()
    expect_heading(page, _("Contact and delivery address"))


def checkout_to_payment(page: Page, details: dict | None = None, delivery: str | None = None) -> None:
    """From the cart: contact and address, delivery method (default: air mail), up to the payment step."""
    start_checkout(page)
    fill_contact(page, **(details or GUEST))
    page.get_by_role("button", name=_("Continue to delivery")).click()
    expect_heading(page, re.compile("^" + re.escape(prefix("Delivery to %(region)s", "region"))))
    if delivery:
        page.get_by_label(re.compile(re.escape(delivery))).check()
    page.get_by_role("button", name=_("Continue to payment")).click()
    expect_heading(page, _("Payment"))


def choose_payment(page: Page, method_label: str) -> None:
    """On the payment step: pick a method ("Cash to the courier", "PayPal", ...) and go to review."""
    page.get_by_label(_(method_label)).check()
    page.get_by_role("button", name=_("Review the order")).click()
    expect_heading(page, _("Review your order"))


def type_discount_code(page: Page, code: str) -> None:
    """On the payment step (PAY-DISCOUNTS): type a discount code; "Review the order" sends it."""
    page.get_by_label(_("Discount code")).fill(code)


def confirm_order(page: Page) -> str:
    """On the review step: press "Confirm order"; returns the new order's number."""
    page.get_by_role("button", name=_("Confirm order")).click()
    return order_number_on_heading(page)


def order_number_on_heading(page: Page) -> str:
    heading = page.get_by_role(
        "heading", name=re.compile("^" + re.escape(prefix("Order %(number)s", "number")) + "RX-")
    )
    expect(heading).to_be_visible()
    return ORDER_NUMBER.search(heading.inner_text()).group(0)


def checkout_as_guest(page: Page, payment: str = "Cash to the courier", details: dict | None = None) -> str:
    """From the cart to a confirmed order; returns its number (browser on the order page)."""
    checkout_to_payment(page, details)
    choose_payment(page, payment)
    return confirm_order(page)


def field_box(page: Page, label: str):
    """The block holding a form field's label, input and messages (what a reader sees as 'next to')."""
    return page.locator(".field").filter(has=page.get_by_text(label, exact=True))


# --- PayPal stand-in and the customer's orders -----------------------------------------------
def expect_paypal_page(page: Page) -> None:
    """The stand-in's approval page (buttons "Approve" and "Cancel")."""
    expect_heading(page, "PayPal (local stand-in)")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()


def open_my_orders(page: Page) -> None:
    page.get_by_role("link", name=_("My account")).click()
    page.get_by_role("link", name=_("My orders")).click()
    expect_heading(page, _("My orders"))


def place_paypal_order(page: Page, base_url: str, product_name: str, details: dict) -> str:
    """Buy one product with PayPal, approve on PayPal's page; returns the paid order's number."""
    add_to_cart(page, base_url, product_name, 1)
    open_cart(page)
    checkout_to_payment(page, details)
    choose_payment(page, "PayPal")
    page.get_by_role("button", name=_("Confirm order")).click()
    expect_paypal_page(page)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text=_("Payment received. Thank you!"))).to_be_visible()
    return order_number_on_heading(page)


def log_out(page: Page) -> None:
    page.get_by_role("button", name=_("Log out")).first.click()
    expect(page.get_by_role("link", name=_("Log in"))).to_be_visible()


# --- admin -----------------------------------------------------------------------------------
def admin_log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/admin/")
    page.get_by_label(_("Username")).fill(username)
    page.get_by_label(_("Password")).fill(password)
    page.get_by_role("button", name=_("Log in")).click()
    expect(page.get_by_role("heading", name=_("Site administration"))).to_be_visible()


def admin_log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # LOGOUT_REDIRECT_URL: the catalogue


def admin_open_order(page: Page, base_url: str, number: str) -> None:
    """From the admin's front page: Orders list, search for the number, open it."""
    page.goto(base_url + "/admin/")
    # The model's row, not the app's caption (also called "Orders"), in whichever language the admin speaks.
    page.locator("tr.model-order th[scope=row] a").click()
    page.locator("#searchbar").fill(number)
    page.get_by_role("button", name=_("Search")).click()
    page.get_by_role("link", name=number, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(number)))).to_be_visible()


# --- fulfilment in the admin: packing, shipments, deliveries, stock-outs ----------------------
def admin_mark_packed(page: Page, base_url: str, number: str) -> None:
    """Fulfilment › Work queue: tick the order, run "Mark packed"."""
    page.goto(base_url + "/admin/")
    page.get_by_role("link", name="Work queue", exact=True).click()
    page.get_by_role("checkbox", name=f"Select this object for an action - {number}").check()
    page.get_by_label("Action:").select_option(label="Mark packed (the customer is e-mailed)")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Marked packed: 1 order(s).")).to_be_visible()


def admin_create_shipment(
    page: Page, *, quantities: dict[str, int] | None = None, tracking: str = "", method: str | None = None
) -> None:
    """On an order's admin page: "Create shipment", the method, tracking number and units per product, "Ship".

    ``quantities`` maps a product name to the units in this parcel; lines not named keep the form's
    pre-filled quantity (what is left on the shelf).
    """
    page.get_by_role("link", name="Create shipment").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Create shipment for order"))).to_be_visible()
    if method:
        page.get_by_label("Method").select_option(label=method)
    page.get_by_label("Tracking number").fill(tracking)
    for product_name, qty in (quantities or {}).items():
        page.get_by_label(re.compile("^" + re.escape(product_name) + r" \(")).fill(str(qty))
    page.get_by_role("button", name="Ship").click()
    shipped = re.compile(r"^Parcel \d+ of order RX-\S+ shipped; the customer was e-mailed\.")
    expect(page.get_by_text(shipped)).to_be_visible()


def admin_parcel_row(page: Page, text: str):
    """The row of the order page's Parcels table that shows ``text`` (a tracking number, a product)."""
    parcels = page.locator(".inline-group").filter(has_text="Parcels: tracking, contents, record a delivery")
    return parcels.get_by_role("row").filter(has_text=text)


def admin_record_parcel(page: Page, row_text: str, outcome: str) -> None:
    """On an order's admin page: follow a parcel's "Handed over" / "Failed" / "At a pick-up point" link."""
    admin_parcel_row(page, row_text).get_by_role("link", name=outcome, exact=True).click()
    title = re.compile(rf"^Parcel \d+ of RX-\S+: {re.escape(outcome)}$")
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def admin_submit_record(page: Page, outcome: str) -> None:
    """On a delivery form: press "Record"; back on the order page with the confirmation."""
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text(re.compile(rf"^Parcel \d+: {re.escape(outcome)} recorded\.$"))).to_be_visible()


def email_links(message: mail.EmailMessage) -> list[str]:
    """The http(s) links in an e-mail's text part."""
    return re.findall(r"https?://\S+", message.body)


# --- phone layout and accessibility ----------------------------------------------------------
PHONE = {"width": 390, "height": 844}
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def load_axe(page: Page) -> None:
    """Make axe-core (tests/e2e/vendor/axe.min.js) available on every page this tab opens next.

    An init script is evaluated by the browser itself, so the shop's Content-Security-Policy (scripts
    only from its own static files) stays as it is for the page under test.
    """
    page.add_init_script(path=str(AXE_JS))


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0: nothing scrolls sideways)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def serious_axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the current page, one line each."""
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => {
                    const where = v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ");
                    return `${v.impact} ${v.id}: ${v.help} — ${where}`;
                });
        }"""
    )
    return violations
