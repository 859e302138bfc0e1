"""SHIP-WITHIN-2BD / SHIP-BUSINESS-HOURS: the staff digest of orders at risk and overdue.

Sent to Policy.staff_email by a periodic task, only in business hours (09:00–15:00 Moscow, business
days), each order at most once per state. The clock is moved with time-machine across a weekend,
RU public holidays (Russia Day 2026-06-12, Unity Day 2026-11-04) and 15:00.
"""

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from config.celery import app as celery_app
from orders import services
from shipping import tasks
from shipping.models import ShipByAlert
from shipping.services.queue import QueueClock, ship_by_digest_send
from tests.orders.lifecycle_support import isolate_hooks
from tests.shipping.queue_support import msk, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hook_calls(monkeypatch):
    return isolate_hooks(monkeypatch)


def _digests(policy):
    return [m for m in mail.outbox if m.to == [policy.staff_email]]


def _run_at(moment, capture) -> int:
    """Run the beat task at ``moment`` (commit callbacks executed: the e-mail is sent)."""
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return tasks.shipping_ship_by_digest()


def test_ship_within_2bd_digest_is_in_the_beat_schedule():
    entry = celery_app.conf.beat_schedule["shipping-ship-by-digest"]
    assert entry["task"] == "shipping.tasks.shipping_ship_by_digest"
    assert entry["task"] in celery_app.tasks


def test_ship_within_2bd_digest_across_a_weekend_once_per_state(policy, django_capture_on_commit_callbacks):
    run = lambda moment: _run_at(moment, django_capture_on_commit_callbacks)  # noqa: E731
    order = paid_order(msk(2026, 3, 12, 10, 0))  # Thursday 10:00 + 2 business days
    assert order.ship_by == msk(2026, 3, 16, 10, 0)  # Monday 10:00

    assert run(msk(2026, 3, 13, 11, 0)) == 0  # Friday 11:00: 5 business hours left, on track
    assert run(msk(2026, 3, 13, 14, 0)) != 0  # Friday 14:00: 1 h Friday + 1 h Monday left → at risk
    assert run(msk(2026, 3, 13, 14, 15)) == 0  # again: already announced
    assert run(msk(2026, 3, 14, 12, 0)) == 0  # Saturday: closed
    assert run(msk(2026, 3, 15, 12, 0)) == 0  # Sunday: closed
    assert run(msk(2026, 3, 16, 9, 30)) == 0  # Monday 09:30: still at risk, announced already
    assert run(msk(2026, 3, 16, 10, 30)) != 0  # Monday 10:30: overdue
    assert run(msk(2026, 3, 16, 10, 45)) == 0  # twice → one e-mail

    digests = _digests(policy)
    assert [m.subject for m in digests] == ["Ship-by digest: 1 at risk", "Ship-by digest: 1 overdue"]
    assert order.number in digests[0].body and "2.0 business hours left" in digests[0].body
    assert "ship by 16 March 2026, 10:00" in digests[1].body
    assert f"/admin/orders/order/{order.pk}/change/" in digests[1].body
    assert sorted(ShipByAlert.objects.values_list("state", flat=True)) == ["at_risk", "overdue"]


def test_ship_within_2bd_staff_see_what_the_digest_announced(admin_client, policy, django_capture_on_commit_callbacks):
    order = paid_order(msk(2026, 3, 10, 10, 0))
    _run_at(msk(2026, 3, 13, 10, 0), django_capture_on_commit_callbacks)
    html = admin_client.get(reverse("admin:shipping_shipbyalert_changelist")).content.decode()
    assert order.number in html and "Overdue" in html


def test_ship_business_hours_digest_waits_for_the_end_of_russia_day(policy, django_capture_on_commit_callbacks):
    run = lambda moment: _run_at(moment, django_capture_on_commit_callbacks)  # noqa: E731
    order = paid_order(msk(2026, 6, 10, 14, 0))  # Wednesday; Friday 12 June is a public holiday
    assert order.ship_by == msk(2026, 6, 15, 14, 0)  # Thursday, then Monday

    assert run(msk(2026, 6, 11, 14, 0)) == 0  # Thursday 14:00: 1 h + 5 h Monday left, on track
    assert run(msk(2026, 6, 12, 11, 0)) == 0  # Russia Day: closed, and the holiday is not counted
    assert run(msk(2026, 6, 15, 11, 0)) == 0  # Monday 11:00: 3 h left, not less than half a day
    assert run(msk(2026, 6, 15, 11, 30)) != 0  # 2.5 h left → at risk
    assert [m.subject for m in _digests(policy)] == ["Ship-by digest: 1 at risk"]
    assert order.number in _digests(policy)[0].body


def test_ship_business_hours_overdue_on_unity_day_is_sent_the_next_business_morning(
    policy, django_capture_on_commit_callbacks
):
    run = lambda moment: _run_at(moment, django_capture_on_commit_callbacks)  # noqa: E731
    order = paid_order(msk(2026, 10, 30, 10, 0))  # Friday 30 October
    assert order.ship_by == msk(2026, 11, 3, 10, 0)  # Monday 2, Tuesday 3 November
    assert run(msk(2026, 11, 3, 16, 0)) == 0  # overdue, but after 15:00
    assert run(msk(2026, 11, 4, 11, 0)) == 0  # Unity Day: closed
    assert run(msk(2026, 11, 5, 9, 0)) != 0  # Thursday opening
    assert [m.subject for m in _digests(policy)] == ["Ship-by digest: 1 overdue"]
    assert order.number in _digests(policy)[0].body


@pytest.mark.parametrize(("minute_of_14_or_15", "sent"), [((14, 59), True), ((15, 0), False), ((15, 1), False)])
def test_ship_business_hours_digest_before_and_after_15(
    policy, django_capture_on_commit_callbacks, minute_of_14_or_15, sent
):
    paid_order(msk(2026, 3, 10, 10, 0))  # ship by Thursday 12 March 10:00: overdue on Friday
    hour, minute = minute_of_14_or_15
    assert bool(_run_at(msk(2026, 3, 13, hour, minute), django_capture_on_commit_callbacks)) is sent
    assert len(_digests(policy)) == int(sent)


def test_ship_within_2bd_digest_lists_several_orders_with_their_holds_and_skips_closed_ones(
    policy, django_capture_on_commit_callbacks
):
    policy.staff_email = "night-shift@example.com"
    policy.save()
    overdue = paid_order(msk(2026, 3, 10, 10, 0))  # ship by Thursday 12 March 10:00
    held = paid_order(msk(2026, 3, 11, 11, 0), method="card_online")  # ship by Friday 13 March 11:00, fraud review
    later = paid_order(msk(2026, 3, 13, 9, 0))  # ship by Tuesday 17 March: on track
    cancelled = paid_order(msk(2026, 3, 10, 10, 0))
    services.order_cancel(order_id=cancelled.pk, reason="Customer asked.")

    assert _run_at(msk(2026, 3, 13, 10, 0), django_capture_on_commit_callbacks)
    [digest] = _digests(policy)
    assert digest.to == ["night-shift@example.com"]
    assert digest.subject == "Ship-by digest: 1 overdue, 1 at risk"
    body = digest.body
    assert overdue.number in body and held.number in body
    assert later.number not in body and cancelled.number not in body
    assert "on hold: Card payment being checked" in body
    assert body.index("OVERDUE") < body.index(overdue.number) < body.index("AT RISK") < body.index(held.number)


def test_ship_within_2bd_at_risk_share_follows_the_policy(policy):
    order = paid_order(msk(2026, 3, 12, 10, 0))  # ship by Monday 16 March 10:00
    friday_1130 = QueueClock.current(msk(2026, 3, 13, 11, 30))  # 3.5 h + 1 h = 4.5 business hours left
    assert friday_1130.state_of(order.ship_by) == "on_track"
    policy.at_risk_share_of_day = "0.80"  # 4.8 h of a 6 h day
    policy.save()
    assert QueueClock.current(msk(2026, 3, 13, 11, 30)).state_of(order.ship_by) == "at_risk"


def test_ship_within_2bd_digest_rolled_back_announces_nothing(policy, monkeypatch):
    paid_order(msk(2026, 3, 10, 10, 0))

    def broken(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr("shipping.services.queue.email_queue", broken)
    with time_machine.travel(msk(2026, 3, 13, 10, 0), tick=False), pytest.raises(RuntimeError):
        ship_by_digest_send()
    assert not ShipByAlert.objects.exists()
