"""Packing (SHIP-NOTICES): mark packed through the lifecycle, the "packed" e-mail, holds refuse it;
the packing slip PDF (ORD-INSERTS: an opted-out order says so plainly)."""

import pytest
from django.core import mail

from orders.lifecycle import OrderOnHold, TransitionNotAllowed
from orders.models import HoldKind, Order, OrderEvent
from shipping.services.packing import order_mark_packed, packing_slips_pdf
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order
from tests.shipping.queue_support import msk, paid_order, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db
T = OrderEvent.Type


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    return isolate_hooks(monkeypatch)


def _packed_mails(order):
    return [m for m in mail.outbox if m.to == [order.email] and "is packed" in m.subject]


def test_ship_notices_mark_packed_moves_to_packed_and_emails_the_customer_once(django_capture_on_commit_callbacks):
    staff = UserFactory(username="packer", is_staff=True)
    order = paid_order(msk(2026, 3, 10, 10, 0), full_name="Анна Петрова")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_packed(order_id=order.pk, actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_packed(order_id=order.pk, actor=staff)  # twice: nothing more

    order.refresh_from_db()
    assert order.status == Order.Status.PACKED
    moves = order.events.filter(type=T.STATUS_CHANGED, parameters__target="packed")
    assert moves.count() == 1 and moves.get().actor == staff
    sent = _packed_mails(order)
    assert len(sent) == 1
    assert f"Your order {order.number} is packed" == sent[0].subject
    assert "Анна Петрова" in sent[0].body and "International air mail" in sent[0].body
    assert order.events.filter(type=T.EMAIL_QUEUED, parameters__kind="packed").count() == 1


def test_ship_notices_order_on_hold_is_refused_and_nothing_changes(django_capture_on_commit_callbacks):
    order = paid_order(msk(2026, 3, 10, 10, 0), method="card_online")  # PAY-FRAUD-CHECK opens a hold
    assert order.holds.filter(kind=HoldKind.FRAUD_REVIEW, released_at__isnull=True).exists()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OrderOnHold) as exc:
        order_mark_packed(order_id=order.pk, actor=None)
    assert exc.value.code == "order_on_hold"
    assert "on hold (card payment being checked); release the hold first" in str(exc.value)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert _packed_mails(order) == []


@pytest.mark.parametrize("status", ["awaiting_payment", "shipped", "cancelled"])
def test_ship_notices_only_a_processing_order_can_be_packed(status):
    order = make_order(status=status)
    with pytest.raises(TransitionNotAllowed) as exc:
        order_mark_packed(order_id=order.pk, actor=None)
    assert exc.value.code == "transition_not_allowed"
    order.refresh_from_db()
    assert order.status == status


def test_ord_inserts_packing_slip_tells_the_packer_plainly_and_says_no_insert_is_charged(tmp_path):
    opted_out = paid_order(msk(2026, 3, 10, 10, 0), no_marketing_inserts=True, lines=[("4990.00", 2), ("990", 1)])
    text = pdf_text(packing_slips_pdf(order_ids=[opted_out.pk]), tmp_path)
    assert f"Packing slip {opted_out.number}" in text
    assert "NO MARKETING INSERTS" in text
    assert "opted out of marketing inserts" in text
    assert "An insert is never added to this order's charges." in " ".join(text.split())
    assert "Бинокль 1 10x42" in text and "Бинокль 2 10x42" in text
    assert "Items to pack" in text and " 3\n" in text
    assert "Ship by: 12 March 2026, 10:00" in text


def test_ord_inserts_packing_slip_of_a_customer_who_did_not_opt_out(tmp_path):
    order = paid_order(msk(2026, 3, 10, 10, 0), no_marketing_inserts=False)
    text = pdf_text(packing_slips_pdf(order_ids=[order.pk]), tmp_path)
    assert "NO MARKETING INSERTS" not in text
    assert "Marketing inserts allowed." in text


def test_packing_slips_one_pdf_with_a_page_per_order_and_holds_stated(tmp_path):
    first = paid_order(msk(2026, 3, 10, 10, 0))
    held = paid_order(msk(2026, 3, 11, 10, 0), method="card_online")
    content = packing_slips_pdf(order_ids=[held.pk, first.pk])
    assert pdf_pages(content, tmp_path) == 2
    text = pdf_text(content, tmp_path)
    assert text.index(first.number) < text.index(held.number)  # soonest ship-by first
    assert "ON HOLD: do not pack. Card payment being checked." in " ".join(text.split())


def test_packing_slip_lists_each_line_with_what_is_left_to_pack(tmp_path):
    order = paid_order(msk(2026, 3, 10, 10, 0), lines=[("100", 3)])
    text = pdf_text(packing_slips_pdf(order_ids=[order.pk]), tmp_path)
    row = next(r for r in text.splitlines() if "Бинокль 1 10x42" in r)
    # ordered, cancelled, shipped before, to pack (OrderLine.quantity_open)
    assert row.split()[-4:] == ["3", "0", "0", "3"]
