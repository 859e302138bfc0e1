"""Issue #10, problems 2 and 5 (staff): moving money and reading bank accounts are permissions of their
own; staff without them see neither the buttons nor the pages (403); account numbers are encrypted at
rest and masked; staff who can refund sign in to the admin with a TOTP code."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from payments import services
from tests.payments.payment_support import cod_order_paid_at_door, make_order

from .support import IBAN, refund_awaiting_account, staff_with

pytestmark = pytest.mark.django_db

ROLES = {
    "order clerk": ("orders.view_order", "orders.change_order", "shop.view_email"),
    "refunder": ("orders.view_order", "payments.view_payment", "payments.issue_refund"),
    "refund transfers": ("orders.view_order", "payments.view_refund", "payments.record_refund_transfer"),
    "bank transfers": ("orders.view_order", "payments.record_bank_transfer"),
}
# page -> (the role allowed, the list page that shows its button, the button's text)
PAGES = {
    "refund a payment": ("refunder", "admin:payments_payment_changelist", "Refund</a>"),
    "record a refund transfer": ("refund transfers", "admin:payments_refund_changelist", "Record the transfer"),
    "record a bank transfer": ("bank transfers", "admin:payments_banktransferorder_changelist", "Record the credited"),
}


@pytest.fixture
def money(django_capture_on_commit_callbacks):
    order, refund = refund_awaiting_account(django_capture_on_commit_callbacks)
    services.refund_bank_details_submit(order_id=order.pk, holder="Ivan Petrov", account_number=IBAN, bic="COBADEFFXXX")
    paid = cod_order_paid_at_door()
    transfer = make_order(payment_method="bank_transfer")
    return {
        "refund a payment": reverse("admin:payments_payment_refund", args=[paid.payments.get().pk]),
        "record a refund transfer": reverse("admin:payments_refund_record", args=[refund.pk]),
        "record a bank transfer": reverse("admin:payments_banktransferorder_record", args=[transfer.pk]),
        "refund": refund,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_security_roles_by_pages_only_the_permission_opens_the_page_and_shows_the_button(money, role, page):
    browser = Client()
    browser.force_login(staff_with(*ROLES[role]))
    allowed_role, list_page, button = PAGES[page]
    allowed = role == allowed_role

    assert browser.get(money[page]).status_code == (200 if allowed else 403)
    listing = browser.get(reverse(list_page))
    if listing.status_code == 200:
        assert (button in listing.content.decode()) is allowed


def test_security_order_clerk_cannot_refund_by_post(money):
    clerk = Client()
    clerk.force_login(staff_with(*ROLES["order clerk"]))

    response = clerk.post(money["refund a payment"], {"amount": "100.00", "reason": "To my account"})

    assert response.status_code == 403


def test_security_bank_account_is_encrypted_at_rest(money):
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number FROM payments_refund WHERE id = %s", [money["refund"].pk])
        [stored] = cursor.fetchone()

    assert IBAN not in stored and IBAN[-4:] not in stored
    assert money["refund"].__class__.objects.get(pk=money["refund"].pk).account_number == IBAN


@pytest.mark.parametrize(("perms", "full"), [((), False), (("payments.view_bank_account",), True)])
def test_security_bank_account_is_masked_without_the_permission(money, perms, full):
    browser = Client()
    browser.force_login(staff_with(*ROLES["refund transfers"], *perms))
    refund = money["refund"]

    pages = [
        browser.get(reverse("admin:payments_refund_change", args=[refund.pk])).content.decode(),
        browser.get(money["record a refund transfer"]).content.decode(),
    ]

    for page in pages:
        assert (IBAN in page) is full
        assert "3000" in page  # the last four always show


def _admin_login(browser, username, password, code=""):
    return browser.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": username, "password": password, "otp_token": code, "next": "/admin/"},
    )


def test_security_staff_who_can_refund_log_in_with_a_totp_code(settings):
    settings.ADMIN_OTP_REQUIRED = True
    refunder = staff_with(*ROLES["refunder"], username="rita")
    device = TOTPDevice.objects.create(user=refunder, name="phone", confirmed=True)
    staff_with(*ROLES["order clerk"], username="carl")

    without_code = Client()
    refused = _admin_login(without_code, "rita", "correct-horse-battery")
    assert refused.status_code == 200
    assert "Enter the current code from your authenticator app." in refused.content.decode()
    assert without_code.get(reverse("admin:index")).status_code == 302

    with_code = Client()
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    assert _admin_login(with_code, "rita", "correct-horse-battery", code).status_code == 302
    assert with_code.get(reverse("admin:index")).status_code == 200

    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    assert _admin_login(Client(), "rita", "correct-horse-battery", wrong_code).status_code == 200

    # Staff who cannot move money need no second factor.
    assert _admin_login(Client(), "carl", "correct-horse-battery").status_code == 302
    # A refunder signed in elsewhere without a code (e.g. the shop's login page) is sent back for one.
    elsewhere = Client()
    elsewhere.force_login(refunder)
    assert elsewhere.get(reverse("admin:index")).status_code == 302
    assert elsewhere.get(reverse("admin:payments_payment_changelist")).status_code == 302


def test_security_staff_who_can_refund_without_an_enrolled_device_are_told_to_enrol(settings):
    settings.ADMIN_OTP_REQUIRED = True
    staff_with(*ROLES["refunder"], username="rita")

    response = _admin_login(Client(), "rita", "correct-horse-battery", "123456")

    assert "has no authenticator enrolled" in response.content.decode()


def test_security_an_administrator_enrols_a_totp_device_from_the_admin():
    admin_user = staff_with(username="root")
    admin_user.is_superuser = True
    admin_user.save()
    refunder = staff_with(*ROLES["refunder"], username="rita")
    browser = Client()
    browser.force_login(admin_user)

    added = browser.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {
            "user": refunder.pk,
            "name": "Rita's phone",
            "confirmed": "on",
            "key": random_hex(),
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "throttling_failure_count": 0,
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    device = TOTPDevice.objects.get(user=refunder)

    qr = browser.get(reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": device.pk}))
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml")
