"""Shared fixtures. Unit tests run Celery tasks eagerly; integration and e2e tests do not.

Tests marked ``postgres`` or ``redis`` need the real service. On a laptop without it they are
skipped with a message saying how to run them; in CI (``CI=true`` or ``REQUIRE_SERVICES=1``)
a missing service fails the test instead.
"""

import os

import pytest
from django.conf import settings as dj_settings
from django.utils import translation

from config.celery import app as celery_app

pytest_plugins = ["tests.fixtures.standin", "tests.fixtures.partner"]

REQUIRE_SERVICES = os.environ.get("CI", "").lower() in {"1", "true"} or os.environ.get("REQUIRE_SERVICES") == "1"


def _missing_service(item) -> str | None:
    if item.get_closest_marker("postgres") and dj_settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        return "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop (see README)"
    if item.get_closest_marker("redis") and not dj_settings.REDIS_URL:
        return "needs Redis: run with REDIS_URL=redis://127.0.0.1:6379/0 (see README)"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"CI requires this service but it is not configured: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language and leaves none behind: a request through the test client
    runs LocaleMiddleware, which activates the visitor's language in this thread and never resets it."""
    translation.activate(dj_settings.LANGUAGE_CODE)
    yield
    translation.activate(dj_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Unit tests run tasks in-process; tests marked integration talk to a real worker."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    settings.MEDIA_ROOT = tmp_path / "media"  # product pictures and thumbnails: never the developer's var/
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"  # claim photos and signed acts
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def policy(db):
    from shop.models import Policy

    return Policy.load()


@pytest.fixture(autouse=True)
def _fresh_request_memos():
    """Issue #14: no cached catalogue page or per-request Policy survives from one test to the next
    (a new catalogue version, not a cache flush: the cache may share Redis with the broker)."""
    from shop.catalogue_cache import VERSION_KEY
    from shop.models import policy_memo_end

    policy_memo_end()
    dj_cache = __import__("django.core.cache", fromlist=["cache"]).cache
    dj_cache.set(VERSION_KEY, os.urandom(8).hex(), None)
    yield
    policy_memo_end()
