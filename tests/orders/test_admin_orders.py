"""Staff work on orders in the admin: list, timeline, standing, and moves that call the services."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse

from orders import events, holds, services
from orders.models import CustomerStanding, HoldKind, Order, OrderEvent
from orders.standing import cod_decision
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    return isolate_hooks(monkeypatch)


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def _changelist():
    return reverse("admin:orders_order_changelist")


def test_ord_refuse_staff_cancel_order_with_reason_through_the_admin_page(
    staff_client, django_capture_on_commit_callbacks, hook_calls
):
    order = make_order(status="processing", payment_method="cash_courier", stock=2)
    url = reverse("admin:orders_order_cancel", args=[order.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert "Reason" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"reason": "Customer asked by phone."})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Customer asked by phone."
    assert order.events.get(type=OrderEvent.Type.CANCELLED).actor == staff_client.user
    assert ("order_cancelled", order.pk) in hook_calls
    assert "Reason: Customer asked by phone." in mail.outbox[-1].body

    change = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Order cancelled. Reason: Customer asked by phone." in change  # the timeline


def test_ord_refuse_cancel_action_with_intermediate_reason_page(staff_client, django_capture_on_commit_callbacks):
    first = make_order(status="processing", payment_method="cash_courier")
    second = make_order(status="awaiting_payment")
    shipped = make_order(status="shipped", payment_method="cash_courier")
    ids = [first.pk, second.pk, shipped.pk]
    page = staff_client.post(_changelist(), {"action": "cancel_orders", ACTION_CHECKBOX_NAME: ids})
    assert page.status_code == 200
    assert "Cancel orders" in page.content.decode()
    assert Order.objects.filter(status="cancelled").count() == 0  # nothing happens before the form

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            _changelist(),
            {"action": "cancel_orders", ACTION_CHECKBOX_NAME: ids, "apply": "1", "reason": ""},
            follow=True,
        )
    text = response.content.decode()
    # The message says what happened to each order, not "done".
    assert f"Order {first.number} is now cancelled; the customer was e-mailed." in text
    assert f"Order {second.number} is now cancelled; the customer was e-mailed." in text
    assert "cannot move from &#x27;shipped&#x27;" in text
    assert set(Order.objects.filter(status="cancelled").values_list("pk", flat=True)) == {first.pk, second.pk}
    assert len(mail.outbox) == 2


def test_cancel_page_for_a_shipped_order_says_why_and_changes_nothing(staff_client):
    order = make_order(status="shipped", payment_method="cash_courier")
    response = staff_client.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "x"})
    assert response.status_code == 200
    assert "cannot be cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "shipped"


def test_pay_fraud_check_staff_approve_action_and_button_release_the_hold(staff_client):
    card = make_order(payment_method="card_online")
    services.order_mark_paid(order_id=card.pk, amount=card.total, paid_at=card.created_at, method="card_online")
    other = make_order(payment_method="card_online")
    services.order_mark_paid(order_id=other.pk, amount=other.total, paid_at=other.created_at, method="card_online")
    held = staff_client.get(_changelist(), {"hold": HoldKind.FRAUD_REVIEW}).content.decode()
    assert card.number in held and other.number in held

    staff_client.post(_changelist(), {"action": "approve_card_payment", ACTION_CHECKBOX_NAME: [card.pk]})
    assert holds.open_kinds(card) == set()

    change = reverse("admin:orders_order_change", args=[other.pk])
    assert "Approve card payment" in staff_client.get(change).content.decode()
    moved = staff_client.post(reverse("admin:orders_order_move", args=[other.pk, "approve"]), follow=True)
    assert holds.open_kinds(other) == set()
    other.refresh_from_db()
    # The message says what happened, in the status's words.
    assert f"Card payment approved: order {other.number} is now {other.get_status_display().lower()}." in (
        moved.content.decode()
    )
    assert "Approve card payment" not in staff_client.get(change).content.decode()
    assert card.number not in staff_client.get(_changelist(), {"hold": HoldKind.FRAUD_REVIEW}).content.decode()


def test_ord_price_error_staff_mark_wrong_price_page(staff_client, django_capture_on_commit_callbacks):
    order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 1), ("100.00", 2)])
    first, second = order.lines.all()
    response = staff_client.post(_changelist(), {"action": "mark_wrong_price", ACTION_CHECKBOX_NAME: [order.pk]})
    url = reverse("admin:orders_order_price_error", args=[order.pk])
    assert response.status_code == 302 and response["Location"] == url

    page = staff_client.get(url).content.decode()
    assert "Бинокль 1 10x42" in page and "Now RUB 4,990.00 per unit" in page

    bad = staff_client.post(url, {f"line_{first.pk}": "4990.00", f"line_{second.pk}": ""})
    assert "This is the current price" in bad.content.decode()
    assert Order.objects.get(pk=order.pk).status == "processing"

    with django_capture_on_commit_callbacks(execute=True):
        ok = staff_client.post(url, {f"line_{first.pk}": "5490.00", f"line_{second.pk}": ""})
    assert ok.status_code == 302
    order.refresh_from_db()
    assert holds.open_kinds(order) == {HoldKind.PRICE_CONFIRMATION}
    assert (
        "Mark a wrong price"
        not in staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    )
    assert order.price_corrections.get().new_unit_price.amount == Decimal("5490.00")
    assert "/orders/price/" in mail.outbox[-1].body


def test_ord_price_error_higher_price_on_paid_order_refused_next_to_the_form(staff_client):
    order = make_order()
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=order.created_at, method="paypal")
    line = order.lines.get()
    response = staff_client.post(
        reverse("admin:orders_order_price_error", args=[order.pk]), {f"line_{line.pk}": "5990.00"}
    )
    assert response.status_code == 200
    assert "already paid" in response.content.decode()
    assert holds.open_kinds(order) == set()
    assert not order.price_corrections.exists()


def test_pay_cod_restrict_standing_on_order_page_and_staff_actions(staff_client):
    order = make_order(status="processing", payment_method="cash_courier", email="vera@example.com")
    change = reverse("admin:orders_order_change", args=[order.pk])
    assert "Allowed" in staff_client.get(change).content.decode()

    misconduct = reverse("admin:orders_order_misconduct", args=[order.pk])
    blank = staff_client.post(misconduct, {"note": ""})
    assert "This field is required." in blank.content.decode()
    staff_client.post(misconduct, {"note": "Threatened the courier."})
    assert not cod_decision(email="vera@example.com").allowed
    assert "Withdrawn" in staff_client.get(change).content.decode()

    row = CustomerStanding.objects.get(email="vera@example.com")
    standing_page = staff_client.get(reverse("admin:orders_customerstanding_change", args=[row.pk])).content.decode()
    assert "Threatened the courier." in standing_page  # the log inline
    staff_client.post(
        reverse("admin:orders_customerstanding_changelist"),
        {"action": "lift_restriction", ACTION_CHECKBOX_NAME: [row.pk], "apply": "1", "note": "Resolved."},
    )
    assert cod_decision(email="vera@example.com").allowed
    assert row.log.count() == 2


def test_non_staff_cannot_reach_order_admin_pages(client):
    order = make_order(status="processing", payment_method="cash_courier")
    client.force_login(UserFactory(username="plain"))
    response = client.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "x"})
    assert response.status_code == 302  # to the admin login
    assert Order.objects.get(pk=order.pk).status == "processing"


def test_view_only_staff_cannot_cancel(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = make_order(status="processing", payment_method="cash_courier")
    assert client.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"reason": "x"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "processing"


def test_order_list_search_filters_and_query_count(staff_client, django_assert_max_num_queries):
    for _ in range(3):
        make_order(status="processing", payment_method="cash_courier")
    target = make_order(status="processing", payment_method="cash_courier", full_name="Зоя Космодемьянская")
    with django_assert_max_num_queries(12):
        page = staff_client.get(_changelist())
    assert page.status_code == 200
    for _ in range(20):
        make_order(status="processing", payment_method="cash_courier")
    with django_assert_max_num_queries(12):
        staff_client.get(_changelist())

    found = staff_client.get(_changelist(), {"q": "Космодемьянская"}).content.decode()
    assert target.number in found
    filtered = staff_client.get(_changelist(), {"status__exact": "cancelled"}).content.decode()
    assert target.number not in filtered


def test_order_change_page_shows_lines_totals_and_timeline(staff_client, django_assert_max_num_queries):
    order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 1), ("100.00", 3)])
    events.order_placed(order=order)
    with django_assert_max_num_queries(25):
        page = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    # A long timeline costs no query per event (OrderEvent.__str__ does not load the order).
    for _ in range(30):
        events.email_queued(order=order, kind="test", email_id=0)
    with django_assert_max_num_queries(25):
        staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = page.content.decode()
    assert "Бинокль 2 10x42" in html
    assert "RUB 5,640.00" in html  # total
    assert f"Order {order.number} placed" in html
    assert "Cancel order" in html and "Mark a wrong price" in html


def test_order_event_admin_is_read_only(staff_client):
    order = make_order(status="processing", payment_method="cash_courier")
    event = events.order_placed(order=order)
    page = staff_client.get(reverse("admin:orders_orderevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff_client.get(reverse("admin:orders_orderevent_add")).status_code == 403


def test_standing_and_event_lists_query_count(staff_client, django_assert_max_num_queries):
    from orders.standing import standing_mark_misconduct

    def grow(n):
        for _ in range(n):
            order = make_order(status="processing", payment_method="cash_courier")
            events.order_placed(order=order, actor=staff_client.user)
            standing_mark_misconduct(email=order.email, note="Rude.", actor=staff_client.user)

    for size in (2, 20):
        grow(size)
        with django_assert_max_num_queries(10):
            assert staff_client.get(reverse("admin:orders_customerstanding_changelist")).status_code == 200
        with django_assert_max_num_queries(10):
            assert staff_client.get(reverse("admin:orders_orderevent_changelist")).status_code == 200
