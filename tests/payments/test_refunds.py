"""PAY-REFUND-SAME-WAY: PayPal/card refunds via PayPal over real HTTP; COD/bank-transfer refunds to a bank account."""

import time

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from orders import services as order_services
from orders.access import order_link
from orders.models import Order, OrderEvent
from payments import services
from payments.models import Payment, Refund
from shop import hooks
from tests.factories import UserFactory

from .payment_support import approve_and_return, cod_order_paid_at_door, make_order, path_of, rub, start_paypal

pytestmark = pytest.mark.django_db


def _paid_by_paypal(client, standin, **kwargs):
    order = make_order(**kwargs)
    payment = start_paypal(client, order)
    approve_and_return(client, standin, payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    return order, payment


def _refund_posts(standin):
    return [r for r in standin.requests() if r["method"] == "POST" and r["path"].endswith("/refund")]


def test_pay_refund_same_way_paypal_partial_then_rest_over_http(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-REFUND-SAME-WAY: PayPal payment refunded via PayPal, partly then fully; each an event and an e-mail."""
    order, payment = _paid_by_paypal(client, paypal_standin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_issue(order_id=order.pk, amount=rub("1000.00"), reason="Goodwill")
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.way == Refund.Way.PAYPAL and refund.status == Refund.Status.SENT
    assert refund.gateway_refund_id
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.refunded_amount == rub("1000.00")
    [post] = _refund_posts(paypal_standin)
    assert post["path"] == f"/v2/payments/captures/{payment.capture_id}/refund"
    assert post["headers"]["PayPal-Request-Id"] == refund.idempotency_key
    assert post["body"]["amount"] == {"currency_code": "RUB", "value": "1000.00"}
    assert [m.subject for m in mail.outbox if "Refund of" in m.subject]
    assert order.events.filter(type=OrderEvent.Type.REFUND_REQUESTED).count() == 1
    assert order.events.filter(type=OrderEvent.Type.REFUND_SENT).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_issue(order_id=order.pk, amount=rub("4340.00"), reason="Rest")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    capture = paypal_standin.orders[payment.paypal_order_id]["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "REFUNDED"


def test_pay_refund_same_way_never_above_captured(client, paypal_standin, django_capture_on_commit_callbacks):
    """PAY-REFUND-SAME-WAY: asking for more than is left is refused with a message; nothing changes."""
    order, payment = _paid_by_paypal(client, paypal_standin)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_issue(order_id=order.pk, amount=rub("5000.00"), reason="Most")
    with pytest.raises(services.RefundError, match="Only RUB 340.00 can still be refunded"):
        services.refund_issue(order_id=order.pk, amount=rub("340.01"), reason="Too much")
    payment.refresh_from_db()
    assert payment.refunded_amount == rub("5000.00")
    assert Refund.objects.count() == 1
    assert len(_refund_posts(paypal_standin)) == 1


def test_pay_refund_same_way_database_refuses_refunds_above_captured(client, paypal_standin):
    """PAY-REFUND-SAME-WAY: even a write that skips the service cannot record more refunded than captured."""
    order, payment = _paid_by_paypal(client, paypal_standin)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("captured_amount") + 1)
    payment.refresh_from_db()
    assert payment.refunded_amount == rub(0)


def test_pay_refund_same_way_timeout_then_retry_refunds_once(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-REFUND-SAME-WAY: PayPal refunded but the answer timed out; Celery's retry (same request id) refunds once."""
    from payments.tasks import payments_refund_send

    order, payment = _paid_by_paypal(client, paypal_standin)
    paypal_standin.fault("refund", "timeout")
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_issue(order_id=order.pk, amount=rub("500.00"), reason="Partial")
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED  # no answer: the task asked Celery to retry later
    payments_refund_send.apply(args=[refund.pk]).get()  # the retry, as the worker runs it after the back-off
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT
    capture = paypal_standin.orders[payment.paypal_order_id]["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "PARTIALLY_REFUNDED"
    assert len(paypal_standin.state.captures[payment.capture_id]["refund_ids"]) == 1
    deadline = time.monotonic() + 5
    while len(_refund_posts(paypal_standin)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the held-back answer is logged when it is finally sent
    posts = _refund_posts(paypal_standin)
    assert len(posts) == 2 and {p["headers"]["PayPal-Request-Id"] for p in posts} == {refund.idempotency_key}


def test_pay_refund_same_way_refund_webhook_after_refund_changes_nothing(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    order, payment = _paid_by_paypal(client, paypal_standin)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_issue(order_id=order.pk, amount=rub("1000.00"), reason="Goodwill")
    hook = paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.REFUNDED")
    response = client.post(
        reverse("payments:paypal_webhook"), data=hook.body, content_type="application/json", **hook.django_headers
    )
    assert response.status_code == 200
    assert Refund.objects.count() == 1
    assert order.events.filter(type=OrderEvent.Type.REFUND_SENT).count() == 1


def test_pay_refund_same_way_gateway_refusal_frees_the_amount(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    order, payment = _paid_by_paypal(client, paypal_standin)
    Payment.objects.filter(pk=payment.pk).update(capture_id="NOSUCHCAPTURE")
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_issue(order_id=order.pk, amount=rub("1000.00"), reason="Goodwill")
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert payment.refunded_amount == rub(0)
    assert order.events.filter(type=OrderEvent.Type.REFUND_FAILED).exists()


def test_pay_refund_same_way_cancelling_a_paid_order_refunds_through_paypal_once(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """ORD-REFUSE + PAY-REFUND-SAME-WAY: staff cancel a paid PayPal order → everything captured goes back via PayPal.

    The hook receiver is safe to run twice.
    """
    order, payment = _paid_by_paypal(client, paypal_standin)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_cancel(order_id=order.pk, reason="Out of stock", actor=UserFactory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        hooks.run("order_cancelled", order.pk)
    [refund] = Refund.objects.all()
    assert refund.amount == rub("5340.00") and refund.status == Refund.Status.SENT
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert len(_refund_posts(paypal_standin)) == 1


def test_pay_refund_same_way_refund_owed_by_a_cancellation_survives_a_crash_and_the_sweep_sends_it_once(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """ORD-REFUSE + PAY-REFUND-SAME-WAY: the refund row commits with the cancellation; the process "dies"
    after the commit (its on-commit callbacks are discarded), so PayPal hears nothing. Only the sweep
    runs: the refund is sent once, and a second sweep sends nothing more."""
    from payments.tasks import payments_refunds_sweep

    order, payment = _paid_by_paypal(client, paypal_standin)
    with django_capture_on_commit_callbacks(execute=False) as discarded:
        order_services.order_cancel(order_id=order.pk, reason="Out of stock", actor=UserFactory(is_staff=True))
    assert discarded  # the send was only ever an on-commit callback: it is lost with the process
    [refund] = Refund.objects.all()
    assert refund.status == Refund.Status.REQUESTED and refund.amount == order.total
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert _refund_posts(paypal_standin) == []

    assert payments_refunds_sweep.delay().get() == 0  # inside the margin: the queued task may still come
    assert payments_refunds_sweep.delay(margin_seconds=0).get() == 1
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT
    assert Order.objects.get(pk=order.pk).payment_status == Order.PaymentStatus.REFUNDED
    assert payments_refunds_sweep.delay(margin_seconds=0).get() == 0
    assert len(_refund_posts(paypal_standin)) == 1


def test_pay_refund_same_way_refund_due_hook_twice_refunds_once(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    order, payment = _paid_by_paypal(client, paypal_standin)
    with django_capture_on_commit_callbacks(execute=True):
        hooks.run("order_refund_due", order.pk, rub("200.00").amount)
        hooks.run("order_refund_due", order.pk, rub("200.00").amount)
    [refund] = Refund.objects.all()
    assert refund.amount == rub("200.00") and refund.status == Refund.Status.SENT


# --- cash on delivery and bank transfer: to a bank account ------------------------------------


def test_pay_refund_same_way_cod_refund_asks_for_a_bank_account(client, django_capture_on_commit_callbacks):
    """PAY-REFUND-SAME-WAY: a cash-on-delivery refund waits for the customer's account; the e-mail links the form."""
    order = cod_order_paid_at_door()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_issue(order_id=order.pk, amount=rub("1340.00"), reason="Returned lens cap")
    assert refund.way == Refund.Way.BANK_ACCOUNT and refund.status == Refund.Status.AWAITING_BANK_DETAILS
    [email] = [m for m in mail.outbox if "Where should we send your refund" in m.subject]
    link = order_link(order, view="payments:refund_account")
    assert link in email.body

    # A guest following the link sees the form; bad input is refused next to each field.
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert 'class="refund-total"' in page.content.decode() and "Account number or IBAN" in page.content.decode()
    bad = client.post(
        path_of(link), {"account_holder": "", "account_number": "4081781009991000", "bank_bic": "04452522"}
    )
    text = bad.content.decode()
    assert "This field is required." in text
    assert "A Russian account number has 20 digits; this one has 16." in text
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_BANK_DETAILS and not refund.account_number
    bic = client.post(
        path_of(link),
        {"account_holder": "Anna Petrova", "account_number": "40817810099910004312", "bank_bic": "04452522"},
    )
    assert "A Russian bank&#x27;s BIC has 9 digits." in bic.content.decode()

    good = client.post(
        path_of(link),
        {"account_holder": "Anna Petrova", "account_number": "4081 7810 0999 1000 4312", "bank_bic": "044525225"},
    )
    assert good.status_code == 302
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    assert refund.account_number == "40817810099910004312" and refund.bank_bic == "044525225"

    # Staff transfer the money and record the reference: sent + e-mail.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_mark_sent(refund_id=refund.pk, reference="PP-2026-0042", actor=None)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT
    [sent] = [m for m in mail.outbox if "Refund of" in m.subject]
    assert "ending 4312" in sent.body and "PP-2026-0042" in sent.body


def test_pay_refund_same_way_order_page_links_the_bank_account_form_while_it_is_needed(client):
    """PAY-REFUND-SAME-WAY: the customer's order page offers the bank-account form while the refund waits for it."""
    order = cod_order_paid_at_door()
    services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="Part")
    form_url = reverse("payments:refund_account", kwargs={"number": order.number})
    page = client.get(path_of(order_link(order))).content.decode()
    assert "Waiting for the customer&#x27;s bank account" in page
    assert f'<a href="{form_url}">Give your bank account</a>' in page
    client.post(
        form_url,
        {"account_holder": "Anna Petrova", "account_number": "40817810099910004312", "bank_bic": "044525225"},
    )
    page = client.get(path_of(order_link(order))).content.decode()
    assert "Give your bank account" not in page


def test_pay_refund_same_way_iban_accounts_are_checked(client):
    order = cod_order_paid_at_door()
    services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="Part")
    link = path_of(order_link(order, view="payments:refund_account"))
    wrong = client.post(
        link, {"account_holder": "Anna Petrova", "account_number": "DE89370400440532013001", "bank_bic": "COBADEFFXXX"}
    )
    assert "Enter 20 digits (Russian account) or a valid IBAN." in wrong.content.decode()
    right = client.post(
        link,
        {"account_holder": "Anna Petrova", "account_number": "DE89 3704 0044 0532 0130 00", "bank_bic": "COBADEFFXXX"},
    )
    assert right.status_code == 302
    assert Refund.objects.get().account_number == "DE89370400440532013000"


def test_pay_refund_same_way_refund_account_page_is_owner_only(client):
    order = cod_order_paid_at_door()
    services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="Part")
    client.force_login(UserFactory())
    url = reverse("payments:refund_account", kwargs={"number": order.number})
    assert client.get(url).status_code == 404
    assert (
        client.post(
            url, {"account_holder": "X Y", "account_number": "40817810099910004312", "bank_bic": "044525225"}
        ).status_code
        == 404
    )
    assert Refund.objects.get().status == Refund.Status.AWAITING_BANK_DETAILS


def test_pay_refund_same_way_bank_transfer_order_refunds_to_a_bank_account():
    order = make_order(payment_method="bank_transfer")
    import datetime as dt

    services.payment_record_bank_transfer(
        order_id=order.pk, amount=order.total, credited_on=dt.date.today(), reference="TR-1", actor=None
    )
    refund = services.refund_issue(order_id=order.pk, amount=order.total, reason="Cancelled")
    assert refund.way == Refund.Way.BANK_ACCOUNT and refund.status == Refund.Status.AWAITING_BANK_DETAILS


def test_pay_refund_same_way_card_paid_to_courier_goes_back_to_the_card():
    order = make_order(status="processing", payment_method="card_courier")
    services.payment_record_at_door(
        order_id=order.pk,
        method="card_courier",
        amount=order.total,
        id_document_checked=True,
        card_unnamed=False,
        actor=None,
    )
    refund = services.refund_issue(order_id=order.pk, amount=rub("100.00"), reason="Part")
    assert refund.way == Refund.Way.CARD_TERMINAL and refund.status == Refund.Status.PENDING
    services.refund_mark_sent(refund_id=refund.pk, reference="TERM-77", actor=None)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT


def test_pay_refund_same_way_nothing_captured_nothing_to_refund():
    order = make_order(status="processing", payment_method="cash_courier")
    with pytest.raises(services.RefundError, match="Only RUB 0.00"):
        services.refund_issue(order_id=order.pk, amount=rub("1.00"), reason="x")
    hooks.run("order_cancelled", order.pk)  # the receiver finds nothing captured: no refund row
    assert not Refund.objects.exists()
