"""End-to-end harness: real Chromium (Debian's) through Playwright against Django's live server.

How it fits together
--------------------
* Every test under ``tests/e2e/`` is marked ``e2e`` (collection hook below), so
  ``pytest -m "not e2e"`` skips the lot and ``pytest -m e2e`` runs only these.
* The browser is ``/usr/bin/chromium`` (Playwright's own download is not installed). If it is
  missing the tests are skipped locally and fail in CI (``CI=true`` or ``REQUIRE_SERVICES=1``).
* The site runs in ``live_server`` (a thread of this process): Celery runs eagerly (autouse
  fixture in ``tests/conftest.py``) and mail lands in ``django.core.mail.outbox``.
* ``shop`` loads the demo shop (``manage.py load_demo``) into the transactional test database and
  points ``settings.SITE_URL`` at the live server; ``paypal`` adds the PayPal stand-in with its
  webhook aimed at the live server.
* A periodic task is run by the test itself (``task.delay().get()``, eager) inside ``with server_turn:``
  (the live server's requests wait meanwhile on shared SQLite). ``time_machine.travel(..., tick=True)``
  moves the live server's clock too (same process); the browser's clock stays, and a session older
  than its 14 days is gone on the server, so follow a signed link from an e-mail or log in again
  (``test_fulfilment.py``).
* When a test fails, a screenshot, the page's HTML and any server traceback are saved to
  ``test-artifacts/<test name>/`` and the folder is printed.

Adding a journey
----------------
Write ``tests/e2e/test_<what>.py`` with one function per journey::

    from playwright.sync_api import expect

    from tests.e2e import pages

    def test_guest_buys_two_eyepieces_SOME_RULE_ID(page, shop, language):   # shop = the live server's URL
        pages.add_to_cart(page, shop, 'Celestron Plossl Eyepiece 25 mm (1.25")', qty=2)
        pages.open_cart(page)
        number = pages.checkout_as_guest(page, payment="Cash to the courier")
        placed = gettext("Thank you! Your order %(number)s is placed.") % {"number": number}
        expect(page.get_by_role("status").filter(has_text=placed)).to_be_visible()

Ask for ``paypal`` too when the journey pays with PayPal (see ``test_paypal.py``); the
demo accounts are ``customer`` / ``customer-demo-2026`` and ``staff`` / ``staff-demo-2026``.

Find elements the way a person does (``get_by_role``, ``get_by_label``, ``get_by_text``) and put
anything a second journey could reuse into ``tests/e2e/pages.py``.

A customer journey asks for ``language`` too and so runs twice, in Russian and in English (issue #12):
the browser speaks the language and the test body runs inside ``translation.override``, so write the
texts it expects as ``gettext("…")`` of the template's msgid (``pages.prefix`` for a sentence's start),
never as English literals; ``pages`` finds products and regions by their English names in either language.
A staff member's steps in such a journey take ``staff_page`` (their own browser, in English) inside
``translation.override("en")``. Run them with::

    DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest tests/e2e -q
"""

import contextlib
import logging
import os
import re
import shutil
import threading
from pathlib import Path

# Django refuses database calls from a thread with a running event loop; Playwright's sync API
# runs one in the test thread. Must be set before the live server handles its first request.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import translation  # noqa: E402

E2E_DIR = Path(__file__).resolve().parent
REPO_DIR = E2E_DIR.parent.parent
ARTIFACTS_DIR = REPO_DIR / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("CI", "").lower() in {"1", "true"} or os.environ.get("REQUIRE_SERVICES") == "1"
VIEWPORT = {"width": 1280, "height": 900}
# Generous for a loaded 2-core CI machine, short enough that a wrong label fails quickly.
DEFAULT_TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "screenshots: regenerates docs/screenshots/*.png (runs only with SHOP_SCREENSHOTS=1)"
    )


def pytest_collection_modifyitems(config, items):
    # Hooks in a conftest see every collected item, so only mark the ones in this folder.
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            # WhiteNoise warns that STATIC_ROOT is not collected; the live server serves static itself.
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so the ``page`` fixture knows the test failed."""
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report


def _failed(item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(rep.failed for rep in reports.values())


# --- browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Launch Debian's Chromium: pytest-playwright has no option for the executable path."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} not found: install Debian's chromium package to run the e2e tests"
        if REQUIRE_SERVICES:
            pytest.fail(f"CI requires Chromium: {message}", pytrace=False)
        pytest.skip(message)
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


#: The browser's language (its Accept-Language) for each of the shop's languages.
BROWSER_LOCALES = {"ru": "ru-RU", "en": "en-GB"}


@pytest.fixture(params=["ru", "en"])
def language(request):
    """A customer journey runs once in Russian and once in English (issue #12).

    The customer's browser speaks the language (the shop follows Accept-Language: ``browser_context_args``
    below sets the locale), and the test body runs inside ``translation.override``, so the helpers in
    ``pages.py`` and the test's own ``gettext`` calls expect the texts the ``.po`` gives for it.
    """
    with translation.override(request.param):
        yield request.param


@pytest.fixture
def browser_context_args(browser_context_args, request):
    """Per test: English by default; the ``language`` of a journey that asks for one."""
    language = request.getfixturevalue("language") if "language" in request.fixturenames else "en"
    return {**browser_context_args, "viewport": VIEWPORT, "locale": BROWSER_LOCALES[language]}


@pytest.fixture
def staff_page(browser, request):
    """A second browser, the staff member's, in English: their admin steps stay in one language while the
    customer's ``page`` speaks the journey's. Run the staff steps inside ``translation.override("en")``."""
    context = browser.new_context(viewport=VIEWPORT, locale=BROWSER_LOCALES["en"])
    staff = context.new_page()
    staff.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield staff
    finally:
        if _failed(request.node):
            _save_artifacts(staff, request.node, [], suffix="-staff")
        context.close()


class _ServerErrors(logging.Handler):
    """Collects the live server's logged request errors (a 500's traceback) during one test."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def page(page, request):
    """pytest-playwright's page, plus artifacts on failure (screenshot, HTML, server tracebacks)."""
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    errors = _ServerErrors()
    logger = logging.getLogger("django.request")
    logger.addHandler(errors)
    try:
        yield page
    finally:
        logger.removeHandler(errors)
    if _failed(request.node):
        _save_artifacts(page, request.node, errors.lines)


def _save_artifacts(page, item, server_errors: list[str], suffix: str = "") -> None:
    folder = ARTIFACTS_DIR / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name).strip("_") + suffix)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    if server_errors:
        (folder / "server-errors.txt").write_text("\n\n".join(server_errors) + "\n")
    try:
        (folder / "url.txt").write_text(page.url + "\n")
        page.screenshot(path=str(folder / "page.png"), full_page=True)
        (folder / "page.html").write_text(page.content())
    except Exception as exc:  # the page may be gone if the browser crashed
        (folder / "error.txt").write_text(f"could not capture the page: {exc!r}\n")
    print(f"\n[e2e] artifacts for {item.nodeid}: {folder}")
    if server_errors:
        print(f"[e2e] the live server logged {len(server_errors)} error(s); see {folder / 'server-errors.txt'}")


# --- data ------------------------------------------------------------------------------------
@pytest.fixture
def shop(transactional_db, live_server, settings):
    """The demo shop served by the live server; returns its base URL (no trailing slash).

    ``load_demo`` brings products, regions, delivery methods, the ``customer`` and ``staff``
    accounts. Links in e-mails and PayPal return URLs point at the live server.
    """
    _serialize_requests_on_shared_sqlite(live_server)
    settings.DEBUG = True  # load_demo refuses production; pytest-django runs with DEBUG off
    call_command("load_demo", verbosity=0)
    settings.DEBUG = False
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "localhost"]
    mail.outbox = []
    return live_server.url


def _serialize_requests_on_shared_sqlite(live_server) -> None:
    """One request at a time when the test database is SQLite in memory.

    The live server then shares this thread's single connection with every request thread, so two
    overlapping requests (the PayPal return and the stand-in's webhook, say) would interleave
    their transactions on one connection. On PostgreSQL (CI) each thread has its own connection
    and requests run concurrently, as in production.
    """
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    if getattr(app, "_e2e_serialized", False):
        return
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return app(environ, start_response)

    serialized._e2e_serialized = True
    serialized._e2e_lock = lock
    httpd.set_app(serialized)


@pytest.fixture
def server_turn(shop, live_server):
    """A context manager for work the test itself does on the database (a periodic task run by hand,
    say) while the live server may be answering a request: on shared in-memory SQLite the two take
    turns, as the live server's requests do among themselves; on PostgreSQL it does nothing::

        with server_turn:
            tasks.shipments_expire_uncollected.delay().get()
    """
    lock = getattr(live_server.thread.httpd.get_app(), "_e2e_lock", None)
    return lock if lock is not None else contextlib.nullcontext()


@pytest.fixture
def paypal(paypal_standin, shop):
    """The PayPal stand-in, its webhooks delivered to the live server."""
    paypal_standin.set_webhook_url(shop + "/payments/paypal/webhook/")
    return paypal_standin
