"""`make bench`: seed, serve with gunicorn, drive with Locust, measure background work; JSON + a table.

    python -m bench.run            (make bench; environment: BENCH_DATABASE_URL, BENCH_REDIS_URL,
                                    BENCH_PORT, BENCH_REQUESTS, BENCH_USERS, BENCH_INVOICES)

Phases (each gunicorn run has 2 workers, production settings with DEBUG off):
1. 1,000 products and 1,000 orders: the scaling scenarios and the periodic tasks (50 due rows).
2. 10,000 products and 10,000 orders: the same.
3. 10,000 products and 100,000 orders (+ 1,000 open carts): every scenario, the periodic tasks with
   1,000 due rows, the invoice PDF.
4. The same data, catalogue cache on: the anonymous catalogue pages (after a warm-up pass).
5. 100,000 products: the catalogue scaling scenarios once more.
Every scenario is measured right after the floor view; results go to bench/results/<date>.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PORT = int(os.environ.get("BENCH_PORT", "8077"))
BASE = f"http://127.0.0.1:{PORT}"
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "150"))
SCALING_REQUESTS = max(REQUESTS // 3, 20)
USERS = int(os.environ.get("BENCH_USERS", "4"))
INVOICES = int(os.environ.get("BENCH_INVOICES", "1000"))

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench_data"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
    # Production settings, as production reads them; only what plain HTTP on 127.0.0.1 needs differs.
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_SALT": "bench-only-salt",
    "SITE_URL": BASE,
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "ADMIN_OTP_REQUIRED": "0",
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
}
os.environ.update(ENV)

CATALOGUE = ["product list p1", "product list deep", "product detail", "search", "category"]
SCALING = ["product list p1", "search", "admin order list"]
EVERYTHING = [
    *CATALOGUE,
    "add to cart",
    "cart (5 lines)",
    "checkout",
    "order page",
    "admin order list",
    "admin order page",
    "work queue",
]


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def python(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, check=True, **kw)  # noqa: S603


def database_fresh() -> None:
    """The bench's own database, empty: every run seeds the same scales from nothing."""
    import psycopg

    url = ENV["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Server:
    def __init__(self, *, cache: bool):
        env = {**ENV, "CATALOGUE_CACHE_SECONDS": "300" if cache else "0"}
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{BASE}/bench/floor/", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 2 minutes")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def params(*, pages: int = 300) -> dict:
    from django.db import connection

    from bench import seed  # noqa: F401  (django.setup)
    from orders.models import Order
    from shop.models import Category, Product

    active = Product.objects.filter(is_active=True, stock__gt=100)
    out = {
        "slugs": list(active.order_by("pk").values_list("slug", flat=True)[:pages]),  # the same pages every pass
        # Cheap enough that five of them stay under PAY-PREPAY-THRESHOLD: cash on delivery is offered.
        "product_ids": list(active.filter(price__lt=5000).order_by("?").values_list("pk", flat=True)[:300]),
        "terms": ["lens", "scope", "prism", "zoom", "marine", "astro", "tripod", "filter"],
        "categories": list(Category.objects.values_list("slug", flat=True)),
        "order_ids": list(Order.objects.order_by("?").values_list("pk", flat=True)[:300]),
        "deep_page": max(1, min(200, Product.objects.filter(is_active=True).count() // 12)),
        "staff_password": seed.STAFF_PASSWORD,
        "run_timeout": 150,
    }
    connection.close()
    return out


def drive(scenarios: list[str], *, requests: int, label: str = "", pages: int = 300) -> list[dict]:
    plan = {
        "base": BASE,
        "params": params(pages=pages),
        "runs": [
            # The floor answers in a few ms: three times the requests give it a second or more of its own.
            {
                "scenario": s,
                "label": f"{s}{label}",
                "requests": requests,
                "floor_requests": 3 * requests,
                "users": USERS,
            }
            for s in scenarios
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "plan.json").write_text(json.dumps(plan))
        python("-m", "bench.driver", f"{tmp}/plan.json", f"{tmp}/out.json")
        return json.loads((Path(tmp) / "out.json").read_text())


def background(*, due: int, invoices: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        python("-m", "bench.background", f"{tmp}/bg.json", "--due", str(due), "--invoices", str(invoices))
        return json.loads((Path(tmp) / "bg.json").read_text())


def seed(products: int, orders: int, carts: int = 1000) -> None:
    python("-m", "bench.seed", "--products", str(products), "--orders", str(orders), "--carts", str(carts))


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
    }


def main() -> None:
    started = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "settings": {
        "requests_per_scenario": REQUESTS, "scaling_requests": SCALING_REQUESTS, "users": USERS,
        "gunicorn_workers": 2, "debug": False}}  # fmt: skip
    database_fresh()
    say("migrate, collectstatic")
    python("manage.py", "migrate", "--noinput", "-v0")
    python("manage.py", "collectstatic", "--noinput", "-v0")
    result["scaling"], result["background_scaling"] = [], []
    for products, orders, tag in ((1_000, 1_000, "1k"), (10_000, 10_000, "10k")):
        say(f"seed {products} products, {orders} orders")
        seed(products, orders)
        server = Server(cache=False)
        try:
            result["scaling"] += drive(SCALING, requests=SCALING_REQUESTS, label=f" @{tag}")
        finally:
            server.stop()
        result["background_scaling"].append({"scale": tag, **background(due=50)})
    say("seed 10,000 products, 100,000 orders, 1,000 carts")
    seed(10_000, 100_000)
    server = Server(cache=False)
    try:
        say("every scenario, catalogue cache off")
        result["scenarios"] = drive(EVERYTHING, requests=REQUESTS)
        result["scaling"] += [{**r, "label": f"{r['scenario']} @100k"} for r in result["scenarios"]
                              if r["scenario"] in SCALING]  # fmt: skip
    finally:
        server.stop()
    say("periodic tasks (1,000 due rows), invoice PDF")
    result["background"] = background(due=1000, invoices=INVOICES)
    result["background_scaling"].append({"scale": "100k", **background(due=50)})
    server = Server(cache=True)
    try:
        say("catalogue pages, cache on (a warm-up pass first, then the measured one)")
        # The steady state of a cache: popular pages hit again and again. 50 product pages, each
        # visited during the warm-up; the measured pass then shows what a hit costs.
        drive(CATALOGUE, requests=REQUESTS, label=" (warm-up)", pages=50)
        result["cached"] = drive(CATALOGUE, requests=REQUESTS, label=" (cached)", pages=50)
    finally:
        server.stop()
    say("seed 100,000 products")
    seed(100_000, 100_000)
    server = Server(cache=False)
    try:
        result["scaling"] += drive(["product list p1", "search"], requests=SCALING_REQUESTS, label=" @100k products")
    finally:
        server.stop()
    result["seconds"] = round(time.monotonic() - started)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    from bench.report import table

    print(table(result))
    say(f"done in {result['seconds']} s: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
