"""Fulfilment journeys of issue #15: from payment to the customer's door, a stock-out, a parcel not collected.

The staff side runs in the admin, the customer's side in the shop; the fulfilment partner is the local
``partner_server`` (the live server's default partner) and PayPal is the stand-in. Celery runs eagerly
in the live server's thread, so a task queued after a commit has run by the time the page answers.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from orders.models import Order
from payments.models import Refund
from shipping import tasks
from shipping.models import FulfilmentPartner, Shipment
from shop.calendar import BusinessCalendar
from shop.models import Product
from tests.e2e import pages
from tests.e2e.test_paypal import CUSTOMER

BINOCULAR = "Yukon Pocket 8x25 Compact"
KIT = "Optics Cleaning Kit"


@pytest.fixture
def partner_shop(fulfilment_partner, shop):
    """The demo shop whose default partner is the local ``partner_server`` (created before ``load_demo``,
    which then leaves its own e-mail-only partner aside). Returns the live server's URL."""
    assert FulfilmentPartner.objects.get(is_default=True) == fulfilment_partner
    return shop


def _date(day: dt.date) -> str:
    """A date as the e-mails write it ("5 June 2026")."""
    return f"{day.day} {day:%B %Y}"


def _emails(address: str, subject: str | re.Pattern) -> list:
    match = subject.search if isinstance(subject, re.Pattern) else (lambda s: s == subject)
    return [m for m in pages.emails_to(address) if match(m.subject)]


def _buy_with_paypal(page, base_url: str, items: dict[str, int], delivery: str | None = None) -> str:
    """The logged-in customer buys ``items`` (name → quantity) with PayPal up to the stand-in's page."""
    for name, qty in items.items():
        pages.add_to_cart(page, base_url, name, qty)
    pages.open_cart(page)
    pages.checkout_to_payment(page, CUSTOMER, delivery=delivery)
    pages.choose_payment(page, "PayPal")
    page.get_by_role("button", name="Confirm order").click()
    pages.expect_paypal_page(page)
    return Order.objects.latest("pk").number


def _approve_at_paypal(page) -> None:
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Payment received. Thank you!")).to_be_visible()


def _open_order_as_customer(page, base_url: str, number: str) -> None:
    pages.log_in(page, base_url, "customer", "customer-demo-2026")
    pages.open_my_orders(page)
    page.get_by_role("link", name=number).click()
    pages.expect_heading(page, f"Order {number}")


# --- 1. paid → partner → packed → two parcels → handed over with an item refused -----------------
def test_paid_order_goes_to_the_partner_is_packed_shipped_in_two_parcels_and_handed_over_with_an_item_refused_SHIP_SUBCONTRACTOR_SHIP_NOTICES_SHIP_METHODS_DLV_HANDOVER_DLV_INSPECT(  # noqa: E501
    page, partner_shop, paypal, partner_server
):
    """SHIP-SUBCONTRACTOR: the partner's endpoint gets one signed POST when the PayPal payment lands.
    SHIP-NOTICES: "packed" e-mail; a shipping notice per parcel (tracking link, ship date, expected
    window); the first parcel's tracker added at PayPal. SHIP-METHODS: express DHL with DHL numbers.
    DLV-HANDOVER / DLV-INSPECT: both parcels handed to the customer, one item refused at the door;
    the customer's page lists both parcels with their links and the final status."""
    shop = partner_shop
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    number = _buy_with_paypal(page, shop, {BINOCULAR: 2, KIT: 1}, delivery="DHL Express courier")
    _approve_at_paypal(page)

    # SHIP-SUBCONTRACTOR: one POST, signed with the partner's secret, about this order.
    [notice] = partner_server.wait_for(1)
    assert notice["verified"] and notice["status"] == 202
    assert notice["json"]["order"]["number"] == number
    assert partner_server.processed == [notice["key"]]
    pages.log_out(page)

    # The warehouse packs it from the work queue: the customer is told.
    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_mark_packed(page, shop, number)
    assert len(_emails(CUSTOMER["email"], f"Your order {number} is packed")) == 1

    # Two parcels: one binocular first, then the rest (the form is pre-filled with what is left).
    pages.admin_open_order(page, shop, number)
    pages.admin_create_shipment(page, quantities={BINOCULAR: 1, KIT: 0}, tracking="1234567890")
    pages.admin_create_shipment(page, tracking="2345 678 901")
    first, second = Shipment.objects.filter(order__number=number).order_by("pk")
    assert (first.tracking_number, second.tracking_number) == ("1234567890", "2345678901")
    assert Order.objects.get(number=number).status == Order.Status.SHIPPED

    notices = _emails(CUSTOMER["email"], re.compile(rf"^Your order {number} is on its way"))
    assert [m.subject for m in notices] == [
        f"Your order {number} is on its way (part of it)",
        f"Your order {number} is on its way",
    ]
    for message, parcel in zip(notices, (first, second), strict=True):
        assert parcel.tracking_url.endswith(f"tracking-id={parcel.tracking_number}")
        assert f"Tracking number: {parcel.tracking_number}" in message.body
        assert parcel.tracking_url in pages.email_links(message)
        calendar = BusinessCalendar.current()
        assert f"left our warehouse on {_date(calendar.local(parcel.shipped_at).date())}" in message.body
        window = f"Expected delivery: {_date(parcel.expected_from)} – {_date(parcel.expected_to)} (2–5 business days)"
        assert window in message.body
    assert "Still to follow in a later parcel:" in notices[0].body

    # The PayPal tracker of the first parcel is at PayPal (the stand-in's order), and the order page says so.
    payment = Order.objects.get(number=number).payments.get()
    trackers = paypal.order(payment.paypal_order_id)["purchase_units"][0]["shipping"]["trackers"]
    assert f"{payment.capture_id}-{first.tracking_number}" in [tracker["id"] for tracker in trackers], trackers
    tracker_table = page.locator(".inline-group").filter(has_text="PayPal tracker")
    expect(tracker_table.get_by_role("row").filter(has_text=first.tracking_number)).to_contain_text("Added")

    # DLV-HANDOVER: the first parcel to the customer; DLV-INSPECT: the kit refused at the door.
    pages.admin_record_parcel(page, first.tracking_number, "Handed over")
    page.get_by_label("Received by").select_option(label="The customer")
    pages.admin_submit_record(page, "handed over")
    pages.admin_record_parcel(page, second.tracking_number, "Handed over")
    page.get_by_label("Received by").select_option(label="The customer")
    page.get_by_label(f"Refused: {KIT}").fill("1")
    pages.admin_submit_record(page, "handed over")
    attempts = page.locator(".inline-group").filter(has_text="Delivery attempts")
    expect(attempts.get_by_role("row").filter(has_text=f"1 × {KIT}")).to_be_visible()
    order = Order.objects.get(number=number)
    assert order.status == Order.Status.COMPLETED
    kit_line = order.lines.get(product_name=KIT)
    assert (kit_line.quantity_delivered, kit_line.quantity_refused) == (0, 1)
    pages.admin_log_out(page)

    # The customer's page: both parcels with their tracking links, and the order completed.
    _open_order_as_customer(page, shop, number)
    expect(page.locator(".order-status")).to_have_text("Completed")
    expect(page.locator(".payment-status")).to_have_text("Partly refunded")
    parcels = page.locator("article.shipment")
    expect(parcels).to_have_count(2)
    for parcel, shipment in zip((parcels.nth(0), parcels.nth(1)), (first, second), strict=True):
        link = parcel.get_by_role("link", name=shipment.tracking_number)
        expect(link).to_have_attribute("href", shipment.tracking_url)
        expect(parcel.locator(".shipment-window")).to_contain_text(f"{shipment.expected_to:%-d %b %Y}")
    history = page.locator("section.timeline")
    expect(history).to_contain_text(re.compile(r"Items worth RUB [\d,.]+ were refused"))
    # The refused kit is not paid for: its price went back to PayPal.
    kit_price = f"{kit_line.unit_price.amount:,.2f}"
    refunds = page.locator("section").filter(has=page.get_by_role("heading", name="Refunds"))
    refund_row = refunds.get_by_role("row").filter(has_text="PayPal")
    expect(refund_row).to_contain_text("Sent")
    expect(refund_row).to_contain_text(kit_price)
    assert len(_emails(CUSTOMER["email"], re.compile(rf"^Refund of .*{kit_price} sent for order {number}$"))) == 1
    # Exactly once: nothing after the payment told the partner again.
    assert len(partner_server.received) == 1


# --- 2. a stock-out found at payment: the customer splits by the link in the e-mail ---------------
BIG_BINOCULAR = "Veber Classic 12x50 BGA"


def test_stock_runs_out_before_payment_customer_splits_by_the_emailed_link_and_the_rest_follows_SHIP_STOCKOUT(
    page, shop, paypal
):
    """SHIP-STOCKOUT: two binoculars confirmed, the shelf drops to one before the PayPal payment: the
    customer is e-mailed at once, picks "split" on the linked page, staff give the date for the missing
    one, the available one ships, and the order page shows the promised date."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    number = _buy_with_paypal(page, shop, {BIG_BINOCULAR: 2})
    # Between "Confirm order" and the payment, the other unit is sold elsewhere.
    Product.objects.filter(name=BIG_BINOCULAR).update(stock=1)
    _approve_at_paypal(page)
    waiting = page.get_by_role("status").filter(has_text="Waiting for your choice: an item is unavailable")
    expect(waiting).to_be_visible()

    [request] = _emails(CUSTOMER["email"], f"Order {number}: some items are unavailable — please choose")
    assert f"- {BIG_BINOCULAR}: 1 of 2" in request.body
    [answer_link] = [link for link in pages.email_links(request) if "/stockout/" in link]
    pages.log_out(page)  # the link alone opens the page (signed)

    page.goto(answer_link)
    pages.expect_heading(page, f"Order {number}: some items are unavailable")
    page.get_by_role("button", name="Send what is available now, the rest later").click()
    expect(page.get_by_role("status").filter(has_text="what is available ships now, the rest later")).to_be_visible()
    expect(page.locator(".stockout-decided")).to_contain_text("We will e-mail you the date")
    assert len(_emails(CUSTOMER["email"], f"Order {number}: the available items ship now, the rest later")) == 1

    # Staff promise a date for the missing binocular, then ship the one on the shelf.
    promised = BusinessCalendar.current().local(Order.objects.get(number=number).paid_at).date() + dt.timedelta(days=20)
    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_open_order(page, shop, number)
    page.get_by_role("link", name="Set the date for the missing part").click()
    page.get_by_label("Missing part ships by").fill(promised.isoformat())
    page.get_by_role("button", name="Set the date").click()
    expect(page.get_by_text(f"Order {number}: the date is set.")).to_be_visible()
    [date_email] = _emails(CUSTOMER["email"], f"Order {number}: the date for your remaining items")
    assert f"will ship by {_date(promised)}" in date_email.body

    pages.admin_create_shipment(page)  # pre-filled: the one binocular on the shelf
    [parcel] = Shipment.objects.filter(order__number=number)
    assert [(item.order_line.product_name, item.quantity) for item in parcel.lines.all()] == [(BIG_BINOCULAR, 1)]
    [notice] = _emails(CUSTOMER["email"], f"Your order {number} is on its way (part of it)")
    assert f"Still to follow in a later parcel:\n- {BIG_BINOCULAR} (BN-VEB-1250): 1" in notice.body
    pages.admin_log_out(page)

    _open_order_as_customer(page, shop, number)
    expect(page.locator(".order-status")).to_have_text("Partially shipped")
    expect(page.locator("article.shipment")).to_have_count(1)
    history = page.locator("section.timeline")
    expect(history).to_contain_text(f"The unavailable items will ship by {_date(promised)}.")
    expect(history).to_contain_text("Choice for the unavailable items: Send what is available now, the rest later.")


# --- 3. waiting at a pick-up point: reminded, not collected, refunded less delivery ---------------
TELESCOPE = "Levenhuk LabZZ T2 Kids Telescope"
PICKUP_POINT = "Pick-up point 17, Tverskaya 5"


def test_parcel_at_a_pick_up_point_is_reminded_expires_on_day_15_and_is_refunded_less_delivery_DLV_ACCEPT_14D(
    page, shop, paypal, server_turn
):
    """DLV-ACCEPT-14D: staff record the parcel at a pick-up point; moving the clock, the reminder goes
    3 days before the collect-by date (once), nothing expires on day 14, on day 15 the order is refused
    as not collected and the goods (not the delivery) are refunded through PayPal: the customer's page
    and e-mails say so."""
    pages.log_in(page, shop, "customer", "customer-demo-2026")
    number = _buy_with_paypal(page, shop, {TELESCOPE: 1})
    _approve_at_paypal(page)
    pages.log_out(page)

    pages.admin_log_in(page, shop, "staff", "staff-demo-2026")
    pages.admin_mark_packed(page, shop, number)
    pages.admin_open_order(page, shop, number)
    pages.admin_create_shipment(page)
    pages.admin_record_parcel(page, TELESCOPE, "At a pick-up point")
    page.get_by_label("Pick-up point").fill(PICKUP_POINT)
    pages.admin_submit_record(page, "arrived at a pick-up point")
    expect(pages.admin_parcel_row(page, TELESCOPE)).to_contain_text("Waiting at the pick-up point")
    pages.admin_log_out(page)

    [parcel] = Shipment.objects.filter(order__number=number)
    calendar = BusinessCalendar.current()
    arrived = calendar.local(parcel.attempts.get().at).date()
    collect_by = calendar.local(parcel.collect_by)
    assert (collect_by.date() - arrived).days == 14 and collect_by.time() == dt.time(23, 59, 59)
    [waiting] = _emails(CUSTOMER["email"], f"Your order {number} is waiting for you: collect it by {_date(collect_by)}")
    assert PICKUP_POINT in waiting.body
    assert Order.objects.get(number=number).status == Order.Status.DELIVERED

    def run(task, moment: dt.datetime) -> int:
        with time_machine.travel(moment, tick=True), server_turn:
            return task.delay().get()

    # Day 11 (4 days before the deadline): too early; day 12: the reminder, once however often beat runs.
    day = lambda n, hour: dt.datetime.combine(arrived + dt.timedelta(days=n), dt.time(hour), tzinfo=calendar.tz)  # noqa: E731
    assert run(tasks.shipments_remind_collection, day(10, 12)) == 0
    assert run(tasks.shipments_remind_collection, day(12, 9)) == 1
    assert run(tasks.shipments_remind_collection, day(12, 9)) == 0
    [reminder] = _emails(CUSTOMER["email"], f"Reminder: collect your order {number} by {_date(collect_by)}")
    assert PICKUP_POINT in reminder.body
    # Day 14, late evening: still the customer's; day 15: not collected, once.
    assert run(tasks.shipments_expire_uncollected, day(14, 23)) == 0
    assert run(tasks.shipments_expire_uncollected, day(15, 0) + dt.timedelta(minutes=5)) == 1
    assert run(tasks.shipments_expire_uncollected, day(15, 10)) == 0

    order = Order.objects.get(number=number)
    assert order.status == Order.Status.REFUSED
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == order.subtotal and order.delivery_cost.amount > 0
    paypal.wait_for_webhooks(2)  # the capture, then the refund
    goods = f"{order.subtotal.amount:,.2f}"
    [gone] = _emails(CUSTOMER["email"], f"Your order {number} was not collected in time")
    assert goods in gone.body and "the delivery cost is not refunded" in gone.body
    assert len(_emails(CUSTOMER["email"], re.compile(rf"^Refund of .*{goods}.* sent for order {number}$"))) == 1

    # The customer follows the link in the e-mail, on day 15 (their old session has expired by then).
    [order_link] = [link for link in pages.email_links(gone) if f"/orders/{number}/" in link]
    with time_machine.travel(day(15, 11), tick=True):
        page.goto(order_link)
        pages.expect_heading(page, f"Order {number}")
        expect(page.locator(".order-status")).to_have_text("Refused at delivery")
        refunds = page.locator("section").filter(has=page.get_by_role("heading", name="Refunds"))
        refund_row = refunds.get_by_role("row").filter(has_text="PayPal")
        expect(refund_row).to_contain_text("Sent")
        expect(refund_row).to_contain_text(goods)
        expect(page.locator("section.timeline")).to_contain_text("was not collected in time and goes back to the shop")
