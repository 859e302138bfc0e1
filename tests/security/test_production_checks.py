"""Issue #10, problem 6: production never falls back to development defaults.

``check --deploy --fail-level WARNING`` passes with a correct production environment and fails,
naming the variable, when a PayPal credential, SITE_URL, a real mail backend or the encryption salt
is missing; ``runshop`` never starts the PayPal stand-in when DEBUG is off.
"""

import pytest

from shop.management.commands import runshop
from tests.shop.test_settings import PRODUCTION, run, settings_in

CHECK = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]


def test_security_production_with_every_variable_passes_check_deploy(tmp_path):
    result = run(CHECK, {**PRODUCTION, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAYPAL_CLIENT_ID", None),
        ("PAYPAL_CLIENT_SECRET", None),
        ("PAYPAL_WEBHOOK_ID", None),
        ("SITE_URL", None),
        ("SITE_URL", "http://127.0.0.1:8000"),
        ("EMAIL_BACKEND", None),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
        ("FIELD_ENCRYPTION_SALT", None),
        ("PAYPAL_API_BASE", "http://127.0.0.1:8765"),
    ],
)
def test_security_production_missing_variable_fails_check_deploy_naming_it(tmp_path, variable, value):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    if value is None:
        del env[variable]
    else:
        env[variable] = value

    result = run(CHECK, env)

    assert result.returncode != 0
    assert variable in result.stderr, result.stderr


def test_security_production_without_paypal_never_uses_the_standin(tmp_path):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    for name in ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"):
        del env[name]
    values = settings_in(env, "PAYPAL_STANDIN", "PAYPAL_API_BASE", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID")
    assert values == {
        "PAYPAL_STANDIN": False,
        "PAYPAL_API_BASE": "https://api-m.paypal.com",
        "PAYPAL_CLIENT_SECRET": "",
        "PAYPAL_WEBHOOK_ID": "",
    }


@pytest.mark.parametrize(("debug", "started"), [(True, True), (False, False)])
def test_security_runshop_starts_the_standin_only_in_development(settings, monkeypatch, debug, started):
    settings.DEBUG = debug
    settings.PAYPAL_STANDIN = debug  # what config/settings.py computes without PAYPAL_CLIENT_ID
    seen = {}

    class Recorder:
        def __init__(self, children, **kwargs):
            seen["names"] = [name for name, _ in children]

        def run(self):
            return 0

    monkeypatch.setattr(runshop, "Supervisor", Recorder)
    runshop.Command().handle(addr="127.0.0.1:8000", no_standin=False)

    assert ("paypal" in seen["names"]) is started
