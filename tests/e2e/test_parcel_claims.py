"""Parcel claims in the browser (issue #9): a short delivery with its Act of Discrepancy and a replacement
order that ships (REF-SHORT-DELIVERY); a late parcel reported by the customer and re-shipped (DLV-LATE).

The order is placed, paid and shipped through the services (the checkout has its own journeys); what
the customer and the staff do about the parcel happens in the shop and the admin. The customer's browser speaks
Russian or English (``language``); the staff member works in English in a browser of their own (``staff_page``).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Order
from payments.services import payment_record_bank_transfer
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from shipping.models import ActOfDiscrepancy, Shipment
from shipping.services import packing, shipments
from shop.models import DeliveryMethod, Email, Product, Region
from tests.e2e import pages
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.e2e

BINOCULAR = "Yukon Pocket 8x25 Compact"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _shipped_order(*, quantity: int, shipped_at: dt.datetime | None = None) -> tuple[Order, Shipment]:
    """The demo customer's order of ``quantity`` binoculars (demo region and method), placed in English, paid by
    bank transfer, packed and shipped in one parcel at ``shipped_at``."""
    with translation.override("en"):  # the order's lines keep the names it was placed with
        return _ship_an_order(quantity, shipped_at)


def _ship_an_order(quantity: int, shipped_at: dt.datetime | None) -> tuple[Order, Shipment]:
    customer = get_user_model().objects.get(username="customer")
    product = Product.objects.get(name=BINOCULAR)
    method = DeliveryMethod.objects.filter(requires_tracking=False).order_by("pk").first()
    goods = product.price * quantity
    order = OrderFactory(
        user=customer,
        email=customer.email,
        status=Order.Status.AWAITING_PAYMENT,
        payment_method="bank_transfer",
        region=Region.objects.order_by("pk").first(),
        delivery_method=method,
        subtotal=goods,
        delivery_cost=goods * 0,
        total=goods,
    )
    line = OrderLineFactory(order=order, product=product, unit_price=product.price, quantity=quantity)
    with time_machine.travel(shipped_at or timezone.now(), tick=True):
        payment_record_bank_transfer(
            order_id=order.pk, amount=order.total, credited_on=timezone.localdate(), reference="E2E", actor=None
        )
        packing.order_mark_packed(order_id=order.pk, actor=None)
        shipment = shipments.shipment_create(
            order_id=order.pk, method_id=method.pk, tracking_number="", lines={line.pk: quantity}, actor=None
        )
    return order, shipment


def _open_order_as_customer(page, base_url: str, number: str) -> None:
    pages.log_in(page, base_url, "customer", "customer-demo-2026")
    pages.open_my_orders(page)
    page.get_by_role("link", name=number).click()
    pages.expect_heading(page, _("Order %(number)s") % {"number": number})


def _ship_from_the_work_queue(page, base_url: str, number: str) -> None:
    pages.admin_mark_packed(page, base_url, number)
    pages.admin_open_order(page, base_url, number)
    pages.admin_create_shipment(page)


def test_short_delivery_act_of_discrepancy_pdf_signed_scan_and_a_replacement_order_that_ships_REF_SHORT_DELIVERY(
    page, staff_page, shop, language
):
    """REF-SHORT-DELIVERY: at the handover one of two binoculars is missing. Staff record the handover, draw
    up the act, print it (its text is read from the PDF) and upload the signed scan; the customer reports
    the missing item from the order page; staff send it in a replacement order, which is packed and shipped."""
    order, shipment = _shipped_order(quantity=2)
    staff, customer = staff_page, page

    # Staff: the handover, then the act from the parcel's row.
    with translation.override("en"):
        _staff_draws_up_the_act(staff, shop, order)

    # The customer reports the missing binocular.
    _open_order_as_customer(customer, shop, order.number)
    customer.get_by_role("link", name=_("Report missing items")).click()
    customer.get_by_label(order.lines.get().product_name).fill("1")
    customer.get_by_label(_("Replacement")).check()
    customer.get_by_label(_("What happened")).fill("Only one binocular was in the parcel; the act was signed.")
    customer.get_by_role("button", name=_("Send")).click()
    expect(customer.get_by_text(_("Thank you: we have your report and e-mailed you a copy."))).to_be_visible()
    claim = Case.objects.get(order=order, kind=CaseKind.SHORT_DELIVERY)

    # Staff: the claim has its act; the missing item goes in a replacement order, packed and shipped.
    with translation.override("en"):
        _staff_sends_a_replacement(staff, shop, order, claim)


def _staff_draws_up_the_act(page, shop, order) -> None:
    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_open_order(page, shop, order.number)
    pages.admin_record_parcel(page, BINOCULAR, "Handed over")
    page.get_by_label("Received by").select_option(label="The customer")
    pages.admin_submit_record(page, "handed over")
    pages.admin_parcel_row(page, BINOCULAR).get_by_role("link", name="Act of Discrepancy").click()
    page.get_by_label(f"{BINOCULAR}: handed over").fill("1")
    page.get_by_label("Remarks").fill("The second box was empty.")
    page.get_by_role("button", name="Draw up the act").click()
    act = ActOfDiscrepancy.objects.get(order=order)
    expect(page.get_by_text(f"{act.number} drawn up and e-mailed.")).to_be_visible()

    pdf_url = page.get_by_role("link", name="Print the act (PDF)").get_attribute("href")
    response = page.request.get(shop + pdf_url)
    text = " ".join(pages.pdf_text(response.body()).split())
    assert f"Act of Discrepancy {act.number}" in text and order.number in text
    # Ordered 2, in the parcel 2, handed over 1, missing 1 (the product's name wraps in its cell).
    assert "Yukon Pocket 8x25" in text and " 2 2 1 1 " in text, text
    assert "Recipient (name, signature)" in text and "Courier (name, signature)" in text
    assert "The second box was empty." in text

    page.get_by_role("link", name="Upload the signed scan").click()
    page.get_by_label("Signed scan").set_input_files({"name": "act-signed.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text(f"{act.number}: the signed scan is stored.")).to_be_visible()
    expect(page.get_by_role("link", name="Signed scan", exact=True)).to_be_visible()
    [message] = [
        m for m in pages.emails_to(order.email) if m.subject == f"Act of Discrepancy for your order {order.number}"
    ]
    assert [name for name, _ in pages.pdf_attachments(message)] == [f"act-of-discrepancy-{act.number}.pdf"]


def _staff_sends_a_replacement(page, shop, order, claim) -> None:
    page.goto(shop + "/admin/shipping/shortdeliveryclaim/")
    row = page.get_by_role("row").filter(has_text=order.number)
    expect(row).to_contain_text("act drawn up")
    row.get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Send the missing items in a replacement order (no charge)")
    page.get_by_role("button", name="Go").click()
    claim.refresh_from_db()
    replacement = claim.replacement_order
    expect(page.get_by_text(f"replacement order {replacement.number} is in the work queue")).to_be_visible()
    assert (claim.status, claim.remedy) == (CaseStatus.RESOLVED, CaseRemedy.REPLACEMENT)
    _ship_from_the_work_queue(page, shop, replacement.number)
    replacement.refresh_from_db()
    assert replacement.status == Order.Status.SHIPPED and replacement.total.amount == 0
    assert replacement.shipments.get().lines.get().quantity == 1


def test_late_parcel_reported_by_the_customer_is_investigated_and_re_shipped_at_no_charge_DLV_LATE(
    page, staff_page, shop, language
):
    """DLV-LATE: the window passed; the customer presses "My parcel has not arrived": the case opens, staff and
    customer are e-mailed; staff close it with "re-ship at no charge"; the order is packed and shipped again
    from the work queue, the new parcel linked to the first."""
    order, shipment = _shipped_order(quantity=1, shipped_at=timezone.now() - dt.timedelta(days=30))
    assert shipment.expected_to < timezone.localdate()

    customer = page
    _open_order_as_customer(customer, shop, order.number)
    claim_block = customer.locator("section.parcel-claim")
    expect(claim_block).to_contain_text(formats.date_format(shipment.expected_to, "SHORT_DATE_FORMAT"))
    claim_block.get_by_role("button", name=_("My parcel has not arrived")).click()
    investigation = customer.locator("section.parcel-claim .parcel-investigation")
    expect(investigation).to_be_visible()
    case = Case.objects.get(order=order, kind=CaseKind.LATE_PARCEL)
    expect(investigation).to_contain_text(str(case.pk))
    expect(customer.get_by_role("status").filter(has_text=str(case.pk))).to_be_visible()
    assert Email.objects.filter(key=f"staff-late-parcel:{shipment.pk}").exists()
    assert [m for m in pages.emails_to(order.email) if str(case.pk) in m.body]

    with translation.override("en"):
        _staff_reships(staff_page, shop, order, shipment, case)


def _staff_reships(page, shop, order, shipment, case) -> None:
    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_open_order(page, shop, order.number)
    pages.admin_parcel_row(page, BINOCULAR).get_by_role(
        "link", name=f"Close the investigation (case {case.pk})"
    ).click()
    page.get_by_label("Re-ship at no charge").check()
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_text(f"Case {case.pk} closed; the customer was e-mailed.")).to_be_visible()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PROCESSING

    _ship_from_the_work_queue(page, shop, order.number)
    order.refresh_from_db()
    again = order.shipments.exclude(pk=shipment.pk).get()
    assert again.reshipment_of_id == shipment.pk and order.status == Order.Status.SHIPPED
    assert Shipment.objects.get(pk=shipment.pk).status == Shipment.Status.LOST
    case.refresh_from_db()
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.RESHIP)
    notices = [
        m for m in pages.emails_to(order.email) if m.subject.startswith(f"Your order {order.number} is on its way")
    ]
    assert len(notices) == 2
