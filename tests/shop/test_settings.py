"""config/settings.py read in fresh processes with a given environment."""

import json
import os
import subprocess
import sys
import textwrap

from django.conf import settings

ROOT = settings.BASE_DIR
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-production-secret-with-enough-variety-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ALLOWED_HOSTS": "shop.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
    "SITE_URL": "https://shop.example.com",
    "FIELD_ENCRYPTION_SALT": "production-salt-0123456789",
    "PAYPAL_CLIENT_ID": "live-client-id",
    "PAYPAL_CLIENT_SECRET": "live-client-secret",
    "PAYPAL_WEBHOOK_ID": "LIVEWEBHOOK123",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}
#: Variables the developer's or CI's shell may have set; each test starts from none of them.
SCRUB = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_SALT",
    "ALLOWED_HOSTS",
    "TEST_DATABASE_NAME",
    "CELERY_QUEUE",
    "SITE_URL",
    "PAYPAL_CLIENT_ID",
    "PAYPAL_CLIENT_SECRET",
    "PAYPAL_WEBHOOK_ID",
    "PAYPAL_API_BASE",
    "EMAIL_BACKEND",
    # CI and the e2e conftest set it for Playwright; `check --deploy` rightly refuses it (async.E001).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SCRUB}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def settings_in(env: dict, *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_check_deploy(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    del env["SECRET_KEY"]

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_dlv_id_check_production_refuses_to_start_without_an_encryption_salt(tmp_path):
    """DLV-ID-CHECK: no production key for identity documents unless the environment gives one."""
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    del env["FIELD_ENCRYPTION_SALT"]

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_SALT must be set when DEBUG is off." in result.stderr


def test_production_security_settings(tmp_path):
    values = settings_in(
        {**PRODUCTION, "VAR_DIR": str(tmp_path)},
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "STORAGES",
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ALLOWED_HOSTS"] == ["shop.example.com"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://shop.example.com"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_laptop_defaults_sqlite_and_filesystem_broker(tmp_path):
    values = settings_in(
        {"VAR_DIR": str(tmp_path)}, "DEBUG", "DATABASES", "CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS"
    )
    assert values["DEBUG"] is True
    db = values["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "db.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"] == str(tmp_path / "celery" / "in")
    assert (tmp_path / "celery" / "in").is_dir()


def test_services_from_the_environment(tmp_path):
    values = settings_in(
        {
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://shop:pw@db.internal:5433/shop",
            "REDIS_URL": "redis://cache.internal:6379/2",
            "CELERY_VISIBILITY_TIMEOUT": "7200",
            "CELERY_QUEUE": "shop-eu",
        },
        "DATABASES",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        "CELERY_TASK_DEFAULT_QUEUE",
        "CACHES",
    )
    db = values["DATABASES"]["default"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "shop",
    )
    assert values["CELERY_BROKER_URL"] == values["CELERY_RESULT_BACKEND"] == "redis://cache.internal:6379/2"
    # Filesystem transport options must not leak into the Redis transport.
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 7200}
    assert values["CELERY_TASK_DEFAULT_QUEUE"] == "shop-eu"
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert not (tmp_path / "celery").exists()


WRITER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from django.db import transaction
    from shop.models import Closure
    import datetime as dt
    worker = int(sys.argv[1])
    for i in range(25):
        with transaction.atomic():
            # Read, then write: under SQLite's default DEFERRED mode two such transactions
            # deadlock on the lock upgrade and one fails with "database is locked".
            Closure.objects.count()
            Closure.objects.create(date=dt.date(2000, 1, 1) + dt.timedelta(days=worker * 1000 + i))
    print("done")
    """
)


def test_sqlite_tolerates_concurrent_writers(tmp_path):
    """Web, worker and beat write to one SQLite file at once: IMMEDIATE + timeout + WAL."""
    env = {"VAR_DIR": str(tmp_path)}
    migrate = run(["manage.py", "migrate", "shop", "--noinput", "-v0"], env)
    assert migrate.returncode == 0, migrate.stderr
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    base = {k: v for k, v in os.environ.items() if k not in SCRUB}
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(n)],
            cwd=ROOT,
            env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outputs = [w.communicate(timeout=120) for w in writers]

    assert [w.returncode for w in writers] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    check = run(
        [
            "-c",
            "import django; django.setup(); from django.db import connection; from shop.models import Closure; "
            "c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
            "print(c.fetchone()[0], Closure.objects.count())",
        ],
        env,
    )
    assert check.stdout.split() == ["wal", "100"], check.stderr
