"""SHIP-BUSINESS-HOURS / SHIP-WITHIN-2BD: the staff work queue in the admin.

Open orders sorted by ship-by, each marked due today / at risk / overdue, with the hold that blocks
it; outside business hours a notice says when the shop reopens; bulk actions mark packed and print
packing slips; the page's query count does not grow with the number of orders.
"""

import re

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse

from orders import services
from orders.models import Order
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order
from tests.shipping.queue_support import msk, paid_order, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db
QUEUE = "admin:shipping_workqueueorder_changelist"
FRIDAY_10 = msk(2026, 3, 13, 10, 0)


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    return isolate_hooks(monkeypatch)


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="warehouse", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def week(policy):
    """Orders paid across the week of 9 March 2026, seen on Friday 13 March at 10:00."""
    orders = {
        "overdue": paid_order(msk(2026, 3, 10, 9, 30)),  # ship by Thursday 09:30
        "at_risk": paid_order(msk(2026, 3, 11, 11, 0)),  # ship by Friday 11:00: 1 h left
        "due_today": paid_order(msk(2026, 3, 11, 14, 30)),  # ship by Friday 14:30: 4.5 h left
        "on_track": paid_order(msk(2026, 3, 12, 10, 0)),  # ship by Monday 10:00: 6 h left
        "held": paid_order(msk(2026, 3, 12, 9, 0), method="card_online"),  # fraud review hold
    }
    orders["not_paid"] = make_order(status="awaiting_payment")
    cancelled = paid_order(msk(2026, 3, 10, 9, 0))
    orders["cancelled"] = services.order_cancel(order_id=cancelled.pk)
    orders["shipped"] = make_order(status="shipped", payment_method="cash_courier")
    return orders


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr.*?</tr>", body, flags=re.S)


def test_ship_business_hours_queue_lists_open_orders_by_ship_by_with_their_state_and_hold(staff_client, week):
    with time_machine.travel(FRIDAY_10, tick=False):
        response = staff_client.get(reverse(QUEUE))
    assert response.status_code == 200
    html = response.content.decode()
    rows = _rows(html)
    numbers = [next(o.number for o in week.values() if o.number in row) for row in rows]
    expected = ["overdue", "at_risk", "due_today", "held", "on_track"]  # held: Monday 09:00
    assert numbers == [week[name].number for name in expected]
    by_name = dict(zip(expected, rows, strict=True))
    assert "Overdue" in by_name["overdue"]
    assert "At risk" in by_name["at_risk"]
    assert "Due today" in by_name["due_today"]
    assert not re.search("Overdue|At risk|Due today", by_name["on_track"])
    assert "Card payment being checked" in by_name["held"]
    assert "Outside business hours" not in html


@pytest.mark.parametrize(
    ("moment", "reopens"),
    [
        (msk(2026, 3, 14, 12, 0), "Monday 16 March 2026, 09:00"),  # the weekend
        (msk(2026, 3, 13, 15, 1), "Monday 16 March 2026, 09:00"),  # Friday after 15:00
        (msk(2026, 6, 11, 15, 30), "Monday 15 June 2026, 09:00"),  # before Russia Day and the weekend
        (msk(2026, 11, 4, 10, 0), "Thursday 5 November 2026, 09:00"),  # Unity Day
        (msk(2026, 3, 12, 8, 59), "Thursday 12 March 2026, 09:00"),  # before opening
    ],
)
def test_ship_business_hours_outside_hours_the_queue_says_when_the_shop_reopens(staff_client, policy, moment, reopens):
    with time_machine.travel(moment, tick=False):
        html = staff_client.get(reverse(QUEUE)).content.decode()
    assert f"Outside business hours: the shop reopens {reopens} (shop time)." in html


def test_ship_business_hours_no_notice_at_14_59(staff_client, policy):
    with time_machine.travel(msk(2026, 3, 13, 14, 59), tick=False):
        html = staff_client.get(reverse(QUEUE)).content.decode()
    assert "Outside business hours" not in html


def _queue_page_queries(staff_client, django_assert_max_num_queries, count: int):
    for i in range(count):
        order = paid_order(msk(2026, 3, 10 + i % 3, 10, 0), method="card_online" if i % 2 else "paypal")
        assert order.status == Order.Status.PROCESSING
    with time_machine.travel(FRIDAY_10, tick=False), django_assert_max_num_queries(8):
        response = staff_client.get(reverse(QUEUE))
    assert len(_rows(response.content.decode())) == count


@pytest.mark.parametrize("count", [3, 30])
def test_ship_business_hours_queue_query_count_does_not_grow_with_orders(
    staff_client, policy, django_assert_max_num_queries, count
):
    _queue_page_queries(staff_client, django_assert_max_num_queries, count)


def test_ship_notices_bulk_mark_packed_packs_free_orders_and_shows_why_a_held_one_is_refused(
    staff_client, week, django_capture_on_commit_callbacks
):
    ids = [week["at_risk"].pk, week["held"].pk, week["due_today"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse(QUEUE), {"action": "mark_packed", ACTION_CHECKBOX_NAME: ids}, follow=True)
    html = response.content.decode()
    assert "Marked packed: 2 order(s)." in html
    assert (
        f"Order {week['held'].number}: cannot move from &#x27;processing&#x27; to &#x27;packed&#x27;: "
        "on hold (card payment being checked); release the hold first" in html
    )
    statuses = dict(Order.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {week["at_risk"].pk: "packed", week["held"].pk: "processing", week["due_today"].pk: "packed"}
    packed_to = sorted(m.to[0] for m in mail.outbox if "is packed" in m.subject)
    assert packed_to == sorted([week["at_risk"].email, week["due_today"].email])


def test_ship_notices_mark_packed_needs_the_change_permission(client, week):
    viewer = UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    page = client.get(reverse(QUEUE))
    assert page.status_code == 200
    assert 'value="mark_packed"' not in page.content.decode()
    assert 'value="print_packing_slips"' in page.content.decode()


def test_ord_inserts_print_packing_slips_for_many_orders_in_one_pdf(staff_client, week, tmp_path):
    opted_out = paid_order(msk(2026, 3, 12, 11, 0), no_marketing_inserts=True)
    ids = [week["overdue"].pk, opted_out.pk, week["held"].pk]
    response = staff_client.post(reverse(QUEUE), {"action": "print_packing_slips", ACTION_CHECKBOX_NAME: ids})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert pdf_pages(response.content, tmp_path) == 3
    text = pdf_text(response.content, tmp_path)
    for order in (week["overdue"], opted_out, week["held"]):
        assert f"Packing slip {order.number}" in text
    assert text.count("NO MARKETING INSERTS") == 1


def test_ord_inserts_one_packing_slip_from_the_queue_row(staff_client, tmp_path, policy):
    order = paid_order(msk(2026, 3, 12, 11, 0), no_marketing_inserts=True)
    with time_machine.travel(FRIDAY_10, tick=False):
        html = staff_client.get(reverse(QUEUE)).content.decode()
    url = reverse("admin:shipping_workqueueorder_slip", args=[order.pk])
    assert url in html
    assert ">none</strong>" in html  # the inserts column
    response = staff_client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert "NO MARKETING INSERTS" in pdf_text(response.content, tmp_path)


def test_packing_slip_is_not_for_visitors_without_order_permission(client, policy):
    order = paid_order(msk(2026, 3, 12, 11, 0))
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(reverse("admin:shipping_workqueueorder_slip", args=[order.pk])).status_code == 403
