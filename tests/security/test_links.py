"""Issue #10, problem 2 (links): signed links expire and the outbox never holds one readable; entering
or changing the refund's bank account e-mails the customer and is an order event."""

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from orders.models import OrderEvent
from payments.models import Refund
from shop.models import Email, Policy

from .support import IBAN, refund_awaiting_account, sent_link, staff_with

pytestmark = pytest.mark.django_db

ACCOUNT = {"account_holder": "Ivan Petrov", "account_number": IBAN, "bank_bic": "COBADEFFXXX"}


def test_security_outbox_reader_cannot_open_the_refund_account_link(django_capture_on_commit_callbacks):
    order, refund = refund_awaiting_account(django_capture_on_commit_callbacks)
    stored = Email.objects.get(key=f"refund-bank-details:{refund.pk}")
    form_path = reverse("payments:refund_account", kwargs={"number": order.number})
    reader = Client()
    reader.force_login(staff_with("shop.view_email", "orders.view_order"))

    page = reader.get(reverse("admin:shop_email_change", args=[stored.pk])).content.decode()

    assert "key=" not in stored.body_text + stored.body_html
    assert "key=" not in page
    assert "[[secret-link:" in stored.body_text  # the link is made when the message is sent
    assert reader.get(form_path).status_code == 404
    assert reader.get(form_path + "?key=").status_code == 404
    # The customer's copy carries a working link.
    [message] = [m for m in mail.outbox if m.to == [order.email] and "refund" in m.subject.lower()]
    customer = Client()
    assert customer.get(sent_link(message, form_path)).status_code == 200


def test_security_signed_link_expires_after_the_policys_days(django_capture_on_commit_callbacks):
    policy = Policy.load()
    policy.link_valid_days = 10
    policy.save()
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as clock:
        order, refund = refund_awaiting_account(django_capture_on_commit_callbacks)
        form_path = reverse("payments:refund_account", kwargs={"number": order.number})
        link = sent_link(mail.outbox[-1], form_path)

        clock.move_to("2026-06-11 09:59Z")
        assert Client().get(link).status_code == 200
        clock.move_to("2026-06-11 10:01Z")
        assert Client().get(link).status_code == 404


def test_security_bank_details_entered_then_changed_email_the_customer_and_are_order_events(
    django_capture_on_commit_callbacks,
):
    order, refund = refund_awaiting_account(django_capture_on_commit_callbacks)
    form_path = reverse("payments:refund_account", kwargs={"number": order.number})
    browser = Client()
    link = sent_link(mail.outbox[-1], form_path)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(link, ACCOUNT).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        changed = {**ACCOUNT, "account_number": "40817810099910004312", "bank_bic": "044525225"}
        assert browser.post(form_path, changed).status_code == 302

    assert Refund.objects.get(pk=refund.pk).account_number == "40817810099910004312"
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        f"A bank account was given for your refund (order {order.number})",
        f"The bank account for your refund was changed (order {order.number})",
    ]
    assert all("If this wasn't you" in m.body for m in mail.outbox)
    assert "account ending 4312" in mail.outbox[1].body
    assert "40817810099910004312" not in mail.outbox[1].body
    events = list(order.events.filter(type=OrderEvent.Type.REFUND_BANK_DETAILS).order_by("pk"))
    assert [e.parameters["changed"] for e in events] == [False, True]
    assert events[1].parameters["account_ending"] == "4312"
