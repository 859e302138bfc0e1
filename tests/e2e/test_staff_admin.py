"""Staff work in the admin: the paid order's timeline, and cancelling another order (ORD-REFUSE)."""

import re

from playwright.sync_api import expect

from orders.models import Order
from tests.e2e import pages
from tests.e2e.test_paypal import CUSTOMER

REASON = "The telescope was damaged in our warehouse; we are sorry."


def test_staff_read_the_timeline_and_cancel_a_paid_order_with_a_reason_ORD_REFUSE(page, shop, paypal):
    """ORD-REFUSE + PAY-REFUND-SAME-WAY: staff cancel a PayPal-paid order with a reason; the customer's
    order page then says it is cancelled and shows the PayPal refund; the customer got the reason by e-mail."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    paid = pages.place_paypal_order(page, shop, "Sturman 10x50 Porro Binocular", CUSTOMER)
    to_cancel = pages.place_paypal_order(page, shop, "Levenhuk Skyline PLUS 80S Refractor", CUSTOMER)
    pages.log_out(page)

    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_open_order(page, shop, paid)
    timeline = page.locator(".inline-group").filter(has_text="Timeline")
    expect(timeline).to_be_visible()
    expect(timeline).to_contain_text(f"Order {paid} placed")
    expect(timeline).to_contain_text(re.compile(r"Payment of RUB [\d,.]+ received\."))
    expect(timeline).to_contain_text("Status: Processing.")
    expect(timeline).to_contain_text("Payment: Paid.")
    expect(page.get_by_role("link", name="Cancel order")).to_be_visible()

    pages.admin_open_order(page, shop, to_cancel)
    page.get_by_role("link", name="Cancel order").click()
    expect(page.get_by_role("heading", name=f"Cancel order {to_cancel}")).to_be_visible()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_text(f"Order {to_cancel} cancelled; the customer was e-mailed.")).to_be_visible()
    assert Order.objects.get(number=to_cancel).status == Order.Status.CANCELLED
    assert Order.objects.get(number=paid).payment_status == "paid"

    pages.admin_log_out(page)
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    pages.open_my_orders(page)
    page.get_by_role("link", name=to_cancel).click()
    pages.expect_heading(page, f"Order {to_cancel}")
    expect(page.locator(".order-status")).to_have_text("Cancelled")
    expect(page.get_by_text(f"Order cancelled. Reason: {REASON}")).to_be_visible()
    # Everything paid (goods and delivery) goes back to PayPal.
    total = f"{Order.objects.get(number=to_cancel).total.amount:,.2f}"
    refunds = page.locator("section").filter(has=page.get_by_role("heading", name="Refunds"))
    refund_row = refunds.get_by_role("row").filter(has_text="PayPal")
    expect(refund_row).to_contain_text("Sent")
    expect(refund_row).to_contain_text(total)

    # The customer was told why, and told when the money went back (REF-SLA).
    received = pages.emails_to(CUSTOMER["email"])
    subjects = [m.subject for m in received]
    assert any(to_cancel in m.subject and "cancelled" in m.subject and REASON in m.body for m in received), subjects
    assert any(m.subject.startswith("Refund of") and to_cancel in m.subject for m in received), subjects
