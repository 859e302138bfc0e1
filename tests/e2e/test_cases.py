"""After-sale cases from the order page (REF-WITHDRAW-30D, REF-DEFECT, REF-SLA), in Russian and in English."""

import datetime as dt
import re

import time_machine
from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from orders.models import Order
from payments.models import Refund
from refunds.models import Case, CaseKind
from shop.models import Product
from tests.e2e import pages
from tests.e2e.test_paypal import CUSTOMER
from tests.refunds.support import delivered


def test_customer_withdraws_a_paid_paypal_order_and_is_refunded_through_paypal_REF_WITHDRAW_30D(
    page, shop, paypal, language
):
    """REF-WITHDRAW-30D + PAY-REFUND-SAME-WAY: the order page offers the withdrawal with the date the right
    ends; the confirmation step repeats it; confirming cancels the paid order and the PayPal stand-in
    refunds the capture; the case shows resolved with its refund due date."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    number = pages.place_paypal_order(page, shop, "Sturman 8x42 Roof Prism Binocular", CUSTOMER)
    order = Order.objects.get(number=number)

    until = pages.prefix("You may withdraw from this purchase until %(ends)s.", "ends")
    expect(page.locator(".withdraw-right")).to_contain_text(re.compile(re.escape(until) + r"\d{1,2} \S+ 20\d\d"))
    page.get_by_role("link", name=_("Withdraw from the purchase")).click()
    pages.expect_heading(page, _("Withdraw from order %(number)s") % {"number": number})
    expect(page.locator(".withdraw-ends")).to_contain_text(until.strip())
    expect(page.get_by_text(_("The order has not left our warehouse: it is cancelled at once."))).to_be_visible()
    assert not Case.objects.filter(order=order).exists()  # the first step changed nothing
    page.get_by_role("button", name=_("Confirm: withdraw from the purchase")).click()

    withdrawn = _("You have withdrawn from the purchase. We have e-mailed you the details.")
    expect(page.get_by_text(withdrawn)).to_be_visible()
    expect(page.locator(".order-status")).to_have_text(_("Cancelled"))
    case_row = page.locator("tr.case").filter(has_text=_("Withdrawal"))
    expect(case_row.locator(".case-status")).to_have_text(_("Resolved"))
    expect(case_row.locator(".case-remedy")).to_have_text(_("Refund"))
    refunds = page.locator("section.refunds")
    expect(refunds).to_contain_text(_("Sent"))
    expect(page.locator(".payment-status")).to_have_text(_("Refunded"))

    [refund] = Refund.objects.filter(order=order)
    assert refund.status == Refund.Status.SENT and refund.amount == order.total
    case = Case.objects.get(order=order)
    assert case.kind == CaseKind.WITHDRAWAL and list(case.refunds.all()) == [refund]
    assert case.refund_due_at is not None  # REF-SLA: due 3 days after the statement, stored
    posts = [r for r in paypal.requests() if r["method"] == "POST" and r["path"].endswith("/refund")]
    assert len(posts) == 1 and posts[0]["body"]["amount"]["value"] == f"{order.total.amount:.2f}"


def test_customer_reports_a_defect_after_the_warranty_and_is_told_when_the_right_ended_REF_DEFECT(
    page, shop, server_turn, language
):
    """REF-DEFECT: goods handed over three years ago with a 12-month warranty: the order page says the
    right ended and on which date; sending the defect form anyway is refused with that date."""
    customer = get_user_model().objects.get(username="customer")
    product = Product.objects.filter(is_active=True).order_by("pk").first()
    handed_over = timezone.now() - dt.timedelta(days=3 * 365)
    with server_turn, time_machine.travel(handed_over, tick=True):
        order = delivered(user=customer, email=customer.email or "customer@example.com")
    with server_turn:
        order.lines.update(warranty_months=12, product=product, product_name=product.name)
    line = order.lines.get()
    ended = (timezone.localtime(handed_over).date()).replace(year=timezone.localtime(handed_over).year + 1)
    ended_text = formats.date_format(ended, "DATE_FORMAT")  # "1 December 2027", "1 декабря 2027"

    pages.log_in(page, shop, "customer", "customer-demo-2026")
    page.goto(f"{shop}/orders/{order.number}/")
    ended_message = _("The right to report a defect in %(product)s ended on %(ends)s.") % {
        "product": line.product_name,
        "ends": ended_text,
    }
    expect(page.locator("li.defect-ended")).to_have_text(ended_message)
    page.get_by_role("link", name=_("Report a defect")).click()
    page.get_by_label(line.product_name).fill("1")
    page.get_by_label(_("Refund")).check()
    page.get_by_label(_("What happened")).fill("The left eyepiece shows a double image.")
    page.get_by_role("button", name=_("Send")).click()

    expect(page.get_by_role("alert")).to_contain_text(ended_message)
    assert not Case.objects.filter(order=order).exists()
