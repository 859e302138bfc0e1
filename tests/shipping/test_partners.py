"""SHIP-SUBCONTRACTOR: the fulfilment partner hears of every ready order — e-mail, signed POST, retries, sweep."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from config.celery import app as celery_app
from orders.models import Order, OrderEvent
from payments import services as payment_services
from shipping.models import FulfilmentPartner, PartnerNotice
from shipping.services import partners
from shipping.tasks import partner_notice_send, partner_notices_sweep
from shop.models import Email
from tests.factories import UserFactory
from tests.orders.checkout_support import make_catalogue
from tests.payments.payment_support import approve_and_return, make_order, start_paypal

from .partner_support import binocular, confirm_cod, make_partner, partner_emails

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager_retries")]
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def cat():
    return make_catalogue()


@pytest.fixture
def product():
    return binocular()


@pytest.fixture
def partner(fulfilment_partner):
    return fulfilment_partner


# --- A ready order: one e-mail, one signed notice ------------------------------------------------
def test_ship_subcontractor_cod_order_confirmed_emails_the_partner_and_posts_one_signed_notice(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: a cash-on-delivery order confirmed at checkout is ready at once; its partner gets
    one e-mail with the details and one POST signed with its secret, carrying the idempotency key."""
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product, quantity=2, inserts=True)

    [email] = partner_emails(partner)
    assert email.status == Email.Status.SENT and email.key == f"partner-order:{order.pk}:{partner.pk}"
    assert order.number in email.subject
    for fact in [
        "BN-TEST-1050  Binocular 10x50: 2",
        "Express courier (DHL) (DHL)",
        "Recipient: Anna Petrova",
        "Phone: +79161234567",
        "12 Lenina street, flat 5",
        "101000 Moscow, Moscow",
        "Payment: Cash to the courier",
        "COLLECT AT THE DOOR: RUB 11,180.00",
        "NO MARKETING INSERTS",
        "Please ship it by",
    ]:
        assert fact in email.body_text, fact
    assert "NO MARKETING INSERTS" not in email.body_html and "No marketing inserts" in email.body_html
    assert [m.to for m in mail.outbox if m.to == [partner.email]] == [[partner.email]]

    [notice] = PartnerNotice.objects.filter(order=order)
    assert (notice.partner, notice.status, notice.attempts) == (partner, PartnerNotice.Status.DELIVERED, 1)
    assert notice.delivered_at is not None
    [request] = partner_server.received
    assert request["verified"] and request["status"] == 202
    assert request["headers"]["idempotency-key"] == notice.idempotency_key == f"order-ready:{order.number}:{partner.pk}"
    assert request["headers"]["content-type"] == "application/json"
    assert abs(int(request["headers"]["x-shop-timestamp"]) - time.time()) < 60
    # The signature a partner recomputes: HMAC-SHA256(secret, timestamp + "." + raw body).
    signed = request["headers"]["x-shop-timestamp"].encode() + b"." + request["body"]
    digest = hmac.new(partner.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert request["headers"]["x-shop-signature"] == f"sha256={digest}"
    assert request["json"] == notice.payload
    payload = request["json"]
    assert payload["order"]["number"] == order.number
    assert payload["order"]["lines"] == [{"sku": "BN-TEST-1050", "name": "Binocular 10x50", "quantity": 2}]
    assert payload["order"]["no_marketing_inserts"] is True
    assert payload["order"]["ship_by"] == order.ship_by.astimezone(MSK).isoformat(timespec="seconds")
    assert payload["delivery"]["phone"] == "+79161234567"
    assert payload["delivery"]["address"] == "12 Lenina street, flat 5"
    assert payload["delivery"]["method"] == "express" and payload["delivery"]["recipient"] == "Anna Petrova"
    assert payload["payment"] == {
        "method": "cash_courier",
        "method_name": "Cash to the courier",
        "paid_on_delivery": True,
        "amount_to_collect": "11180.00",
        "currency": "RUB",
    }
    types = list(order.events.values_list("type", flat=True))
    assert types.count(OrderEvent.Type.PARTNER_NOTIFIED) == 1
    assert types.count(OrderEvent.Type.PARTNER_NOTICE_DELIVERED) == 1


def test_ship_subcontractor_paypal_paid_order_is_sent_to_the_partner_once_paid(
    client, paypal_standin, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: a PayPal order is ready when PayPal's payment is confirmed; nothing to collect."""
    order = make_order(payment_method="paypal")
    payment = start_paypal(client, order)
    assert not PartnerNotice.objects.exists() and not partner_emails(partner)

    with django_capture_on_commit_callbacks(execute=True):
        approve_and_return(client, paypal_standin, payment)

    order.refresh_from_db()
    assert order.ready_at is not None
    [notice] = PartnerNotice.objects.filter(order=order)
    assert notice.status == PartnerNotice.Status.DELIVERED
    assert notice.payload["payment"]["paid_on_delivery"] is False
    assert notice.payload["payment"]["amount_to_collect"] == "0.00"
    assert len(partner_emails(partner)) == 1
    assert "paid in advance: collect nothing" in partner_emails(partner)[0].body_text
    assert [r["key"] for r in partner_server.received] == [notice.idempotency_key]


def test_ship_subcontractor_card_payment_in_fraud_review_notifies_nobody_until_approved(
    client, paypal_standin, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR with PAY-FRAUD-CHECK: a card-paid order waits for staff; only the approval makes it
    ready, and only then is the partner told."""
    order = make_order(payment_method="card_online")
    payment = start_paypal(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        approve_and_return(client, paypal_standin, payment)
    order.refresh_from_db()
    assert order.payment_status == "paid" and order.ready_at is None
    assert not PartnerNotice.objects.exists() and not partner_emails(partner)
    assert partner_server.received == []

    with django_capture_on_commit_callbacks(execute=True):
        payment_services.fraud_review_approve(order_id=order.pk, actor=UserFactory(is_staff=True))

    [notice] = PartnerNotice.objects.filter(order=order)
    assert notice.status == PartnerNotice.Status.DELIVERED
    assert len(partner_emails(partner)) == 1 and len(partner_server.processed) == 1


# --- Retries, exactly once by key ---------------------------------------------------------------
def test_ship_subcontractor_two_failures_then_success_logs_three_attempts_delivered_once(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: the partner answers 500 twice; Celery retries; the third try is delivered."""
    partner_server.fail_next(2, status=500)
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)

    notice = PartnerNotice.objects.get(order=order)
    assert notice.status == PartnerNotice.Status.DELIVERED and notice.attempts == 3
    tries = list(notice.attempt_log.all())
    assert [t.http_status for t in tries] == [500, 500, 202]
    assert tries[0].error.startswith("HTTP 500") and tries[2].error == ""
    assert all(t.duration_ms >= 0 for t in tries)
    assert [r["status"] for r in partner_server.received] == [500, 500, 202]
    assert all(r["verified"] for r in partner_server.received)
    assert {r["body"] for r in partner_server.received} == {partner_server.received[0]["body"]}  # same body
    assert partner_server.processed == [notice.idempotency_key]
    assert order.events.filter(type=OrderEvent.Type.PARTNER_NOTICE_DELIVERED).count() == 1

    # Delivered is final: another task run (a late retry, the sweep) sends nothing.
    assert partner_notice_send.delay(notice.pk).get() is True
    assert partner_notices_sweep.delay(margin_seconds=0).get() == 0
    assert len(partner_server.received) == 3


def test_ship_subcontractor_timed_out_answer_is_retried_with_the_same_key_and_processed_once(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: the partner processed the order but its answer came too late; the retry carries
    the same Idempotency-Key, so the partner answers 2xx without processing it again."""
    partner_server.time_out_next(1)
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)
    partner_server.wait_for(2)

    notice = PartnerNotice.objects.get(order=order)
    assert notice.status == PartnerNotice.Status.DELIVERED and notice.attempts == 2
    first, second = notice.attempt_log.all()
    assert first.http_status is None and "Timeout" in first.error
    assert second.http_status in {200, 202}
    assert partner_server.processed == [notice.idempotency_key]
    assert {r["key"] for r in partner_server.received} == {notice.idempotency_key}


def test_ship_subcontractor_partner_that_never_answers_2xx_stays_pending_with_every_try_visible(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks, caplog
):
    """SHIP-SUBCONTRACTOR: a wrong secret (the partner answers 401) exhausts Celery's retries; the notice stays
    pending with every try recorded, and the sweep goes on trying — nothing is given up silently."""
    FulfilmentPartner.objects.filter(pk=partner.pk).update(secret="not-the-partners-secret")
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)

    notice = PartnerNotice.objects.get(order=order)
    tries = partner_notice_send.max_retries + 1
    assert notice.status == PartnerNotice.Status.PENDING and notice.attempts == tries
    assert notice.attempt_log.count() == tries and notice.last_error.startswith("HTTP 401")
    assert partner_server.processed == []

    FulfilmentPartner.objects.filter(pk=partner.pk).update(secret=partner_server.secret)  # staff fix it
    assert partner_notices_sweep.delay(margin_seconds=0).get() == 1
    notice.refresh_from_db()
    assert notice.status == PartnerNotice.Status.DELIVERED and notice.attempts == tries + 1


# --- The sweep: a process that died after the commit -------------------------------------------
def test_ship_subcontractor_lost_after_commit_only_the_sweep_delivers_it_once(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: the web process died between the commit and its on-commit callbacks: the notice is
    on disk, pending; the sweep sends it once; running the sweep again sends nothing more."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = confirm_cod(cat, product)
    assert callbacks  # … and they are never run: the process "died"
    notice = PartnerNotice.objects.get(order=order)
    assert notice.status == PartnerNotice.Status.PENDING and partner_server.received == []

    assert partner_notices_sweep.delay(margin_seconds=0).get() == 1
    notice.refresh_from_db()
    assert notice.status == PartnerNotice.Status.DELIVERED and notice.attempts == 1
    assert partner_notices_sweep.delay(margin_seconds=0).get() == 0
    assert len(partner_server.received) == 1 and partner_server.processed == [notice.idempotency_key]


def test_ship_subcontractor_sweep_waits_for_the_margin_and_acts_once_when_run_late_after_a_weekend(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: the sweep leaves a fresh notice to the task queued at commit; past the margin it
    queues it. Run late (Monday after a Friday-evening order) and twice, it sends once."""
    friday_evening = dt.datetime(2026, 3, 13, 18, 0, tzinfo=MSK)
    with time_machine.travel(friday_evening, tick=True), django_capture_on_commit_callbacks(execute=False):
        order = confirm_cod(cat, product)
    notice = PartnerNotice.objects.get(order=order)
    with time_machine.travel(dt.datetime(2026, 3, 13, 18, 2, tzinfo=MSK), tick=True):
        assert partner_notices_sweep.delay().get() == 0  # within the default margin (5 minutes)
    with time_machine.travel(dt.datetime(2026, 3, 16, 9, 30, tzinfo=MSK), tick=True):
        assert partner_notices_sweep.delay().get() == 1
        assert partner_notices_sweep.delay().get() == 0
    notice.refresh_from_db()
    assert notice.status == PartnerNotice.Status.DELIVERED and len(partner_server.received) == 1


# --- What the partner is told: the business calendar's ship-by -----------------------------------
@pytest.mark.parametrize(
    ("confirmed", "ship_by"),
    [
        # Friday before 15:00: two business days → Tuesday, same time.
        (dt.datetime(2026, 3, 13, 14, 0, tzinfo=MSK), dt.datetime(2026, 3, 17, 14, 0, tzinfo=MSK)),
        # Friday after 15:00: the clock starts Monday 09:00 → Wednesday 09:00.
        (dt.datetime(2026, 3, 13, 15, 1, tzinfo=MSK), dt.datetime(2026, 3, 18, 9, 0, tzinfo=MSK)),
        # Thursday evening before Russia Day (Friday 12 June 2026), then a weekend → Wednesday 17 June.
        (dt.datetime(2026, 6, 11, 16, 0, tzinfo=MSK), dt.datetime(2026, 6, 17, 9, 0, tzinfo=MSK)),
    ],
    ids=["friday-before-15", "friday-after-15", "before-holiday"],
)
def test_ship_subcontractor_partner_is_told_at_once_with_the_business_calendar_ship_by(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks, confirmed, ship_by
):
    """SHIP-SUBCONTRACTOR and SHIP-WITHIN-2BD: the partner is told at once, whatever the hour, and the ship-by
    it is given is the order's (business days, weekends and public holidays skipped)."""
    with time_machine.travel(confirmed, tick=True), django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)
    notice = PartnerNotice.objects.get(order=order)
    assert notice.status == PartnerNotice.Status.DELIVERED
    assert notice.payload["order"]["ship_by"] == ship_by.isoformat()
    assert partner_emails(partner)[0].body_text.count(f"{ship_by.day} {ship_by:%B %Y}, {ship_by:%H:%M}") == 1


# --- Who is told -------------------------------------------------------------------------------
def test_ship_subcontractor_without_an_active_default_partner_nothing_is_written_and_a_warning_logged(
    cat, product, caplog, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: no partner to tell — the order still confirms; nothing is owed to anyone, staff
    are warned in the log."""
    make_partner(is_default=True, is_active=False)
    with (
        caplog.at_level(logging.WARNING, logger="shipping.services.partners"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = confirm_cod(cat, product)
    assert order.ready_at is not None
    assert not PartnerNotice.objects.exists() and not Email.objects.filter(key__startswith="partner-order:").exists()
    assert not order.events.filter(type=OrderEvent.Type.PARTNER_NOTIFIED).exists()
    assert "no active default fulfilment partner" in caplog.text


def test_ship_subcontractor_partner_without_endpoint_gets_the_email_only(
    cat, product, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: a partner with no endpoint is e-mailed; no notice is owed."""
    partner = make_partner()
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product, inserts=False)
    assert not PartnerNotice.objects.exists()
    [email] = partner_emails(partner)
    assert email.status == Email.Status.SENT and "NO MARKETING INSERTS" not in email.body_text
    event = order.events.get(type=OrderEvent.Type.PARTNER_NOTIFIED)
    assert "(e-mail)" in event.message


def test_ship_subcontractor_receiver_run_twice_writes_nothing_twice(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: the receiver is idempotent by its keys (one e-mail, one notice per order and partner)."""
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)
        again = partners.partner_notify(order.pk)
    assert again == PartnerNotice.objects.get()
    assert len(partner_emails(partner)) == 1
    assert order.events.filter(type=OrderEvent.Type.PARTNER_NOTIFIED).count() == 1


def test_ship_subcontractor_payload_is_frozen_when_the_order_became_ready(
    cat, product, partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: what is POSTed is what was true at the ready moment, even if a retry comes later."""
    partner_server.fail_next(20)  # more than the retries: the notice stays pending
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)
    Order.objects.filter(pk=order.pk).update(phone="+70000000000")
    partner_server.faults.clear()
    assert partner_notices_sweep.delay(margin_seconds=0).get() == 1
    last = partner_server.received[-1]
    assert last["status"] == 202 and last["json"]["delivery"]["phone"] == "+79161234567"


# --- HTTPS only (SHIP_PARTNER_ALLOW_HTTP for the local test partner) ------------------------------
def test_ship_subcontractor_partner_endpoint_must_be_https_unless_allowed_for_development(settings):
    """SHIP-SUBCONTRACTOR: order details travel over HTTPS; plain http only where SHIP_PARTNER_ALLOW_HTTP
    (development, tests), and an endpoint needs a secret to sign with."""
    settings.SHIP_PARTNER_ALLOW_HTTP = False
    partner = FulfilmentPartner(name="P", email="p@example.com", endpoint="http://partner.example/orders", secret="s")
    with pytest.raises(ValidationError) as refused:
        partner.full_clean()
    assert refused.value.message_dict == {"endpoint": ["Enter an HTTPS address (https://…)."]}
    partner.endpoint = "https://partner.example/orders"
    partner.full_clean()
    partner.secret = ""
    with pytest.raises(ValidationError) as refused:
        partner.full_clean()
    assert list(refused.value.message_dict) == ["secret"]

    settings.SHIP_PARTNER_ALLOW_HTTP = True
    FulfilmentPartner(name="P", email="p@example.com", endpoint="http://127.0.0.1:9/orders", secret="s").full_clean()


def test_ship_subcontractor_http_endpoint_is_never_posted_to_when_not_allowed(
    cat, product, partner, partner_server, settings, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: a row that slipped past validation (http, setting off) is not sent in clear text;
    the refused try is recorded for staff."""
    settings.SHIP_PARTNER_ALLOW_HTTP = False
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_cod(cat, product)
    notice = PartnerNotice.objects.get(order=order)
    assert notice.status == PartnerNotice.Status.PENDING and partner_server.received == []
    assert "not an HTTPS address" in notice.last_error and notice.attempt_log.first().http_status is None


def test_ship_subcontractor_production_settings_refuse_plain_http_partners():
    """SHIP-SUBCONTRACTOR: SHIP_PARTNER_ALLOW_HTTP with DEBUG off stops the process at start-up."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_SALT": "production-salt-0123456789",
        "SHIP_PARTNER_ALLOW_HTTP": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "SHIP_PARTNER_ALLOW_HTTP is for development and tests only" in result.stderr
    env["SHIP_PARTNER_ALLOW_HTTP"] = "0"
    ok = subprocess.run([sys.executable, "-c", "import config.settings"], env=env, capture_output=True, timeout=60)
    assert ok.returncode == 0, ok.stderr


def test_ship_subcontractor_sweep_is_in_the_beat_schedule():
    """SHIP-SUBCONTRACTOR: the sweep runs every five minutes from the one beat schedule."""
    entry = celery_app.conf.beat_schedule["shipping-partner-notices-sweep"]
    assert entry["task"] == partner_notices_sweep.name == "shipping.tasks.partner_notices_sweep"
    assert entry["schedule"]._orig_minute == "*/5"
