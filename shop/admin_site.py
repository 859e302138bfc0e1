"""The admin site: Django's, with a second factor for staff who can move money or see personal numbers.

Staff holding any of ``SECOND_FACTOR_PERMISSIONS`` sign in with their password *and* a TOTP code
(django-otp) when ``settings.ADMIN_OTP_REQUIRED`` is on (the default in production). An administrator
enrols a member of staff under *TOTP devices* (add a device for the user, then scan its QR code or type
its key into an authenticator app). Someone with such a permission who signed in without a code (for
instance on the shop's own login page) is sent to the admin's login page for it.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, match_token

#: Permissions whose holders need a second factor: moving money, reading bank accounts, reading
#: identity documents (DLV-ID-CHECK).
SECOND_FACTOR_PERMISSIONS = (
    "payments.issue_refund",
    "payments.record_refund_transfer",
    "payments.view_bank_account",
    "shipping.view_id_document",
)


def needs_second_factor(user) -> bool:
    if not settings.ADMIN_OTP_REQUIRED or not user.is_active:
        return False
    return any(user.has_perm(perm) for perm in SECOND_FACTOR_PERMISSIONS)


def second_factor_satisfied(user) -> bool:
    if not needs_second_factor(user):
        return True
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    return bool(is_verified and is_verified())


class StaffLoginForm(AdminAuthenticationForm):
    """Username and password, plus the authenticator's code for staff who need a second factor."""

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Staff who can refund or see bank accounts or identity documents: the 6-digit code from your "
        "authenticator app.",
    )

    def clean(self):
        cleaned = super().clean()  # checks the password (and django-axes' lockout)
        user = self.get_user()
        if user is None or not needs_second_factor(user):
            return cleaned
        if not any(devices_for_user(user, confirmed=True)):
            raise forms.ValidationError(
                "Your account needs a second factor but has no authenticator enrolled. "
                "Ask an administrator to add a TOTP device for you.",
                code="otp_not_enrolled",
            )
        token = "".join(cleaned.get("otp_token", "").split())
        device = match_token(user, token) if token else None
        if device is None:
            self.add_error("otp_token", "Enter the current code from your authenticator app.")
            raise forms.ValidationError("The authenticator code is missing or wrong.", code="otp_invalid")
        user.otp_device = device  # django_otp's user_logged_in receiver marks the session verified
        return cleaned


class ShopAdminSite(admin.AdminSite):
    site_header = _("Shop administration")
    site_title = _("Shop admin")
    login_form = StaffLoginForm

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and second_factor_satisfied(request.user)
