"""Deploy checks (``manage.py check --deploy``): production must not run on development defaults.

With ``DEBUG=false`` each of these is an error naming the variable to set: PayPal credentials and
webhook id (else the shop would talk to nobody, or to a stand-in), ``SITE_URL`` (links in e-mails and
PayPal's return address) and a real mail backend. (A missing ``SECRET_KEY`` or
``FIELD_ENCRYPTION_SALT`` stops the settings from loading at all.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

#: Backends that deliver nothing to a customer.
DEVELOPMENT_MAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
STANDIN_VALUES = {"standin-client", "standin-secret", "STANDINWEBHOOK"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1", "testserver"}  # noqa: S104 (compared, not bound)


def _missing(name: str, hint: str, id_: str) -> Error:
    return Error(f"{name} is not set for production (DEBUG=false).", hint=hint, id=id_)


@register(Tags.security, deploy=True)
def production_configuration(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    for n, name in enumerate(("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"), start=1):
        value = getattr(settings, name, "")
        if not value or value in STANDIN_VALUES:
            errors.append(
                _missing(
                    name, "Set it to the value from PayPal's developer dashboard (README, PayPal).", f"shop.E00{n}"
                )
            )
    if (urlsplit(settings.PAYPAL_API_BASE).hostname or "") in LOCAL_HOSTS:
        errors.append(
            Error(
                "PAYPAL_API_BASE points at the local PayPal stand-in in production.",
                hint="https://api-m.paypal.com (live) or https://api-m.sandbox.paypal.com.",
                id="shop.E004",
            )
        )
    site = urlsplit(settings.SITE_URL)
    if not settings.SITE_URL or site.scheme != "https" or (site.hostname or "") in LOCAL_HOSTS:
        errors.append(
            Error(
                f"SITE_URL must be the shop's public https:// address in production (now {settings.SITE_URL!r}).",
                hint="e.g. SITE_URL=https://shop.example.com: links in e-mails and PayPal's return use it.",
                id="shop.E005",
            )
        )
    if settings.EMAIL_BACKEND in DEVELOPMENT_MAIL_BACKENDS:
        errors.append(
            Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: no customer would receive mail.",
                hint="EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with the EMAIL_* variables.",
                id="shop.E006",
            )
        )
    return errors
