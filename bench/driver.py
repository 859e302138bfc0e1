"""The load generator: Locust (as a library, headless) in its own process, never in the server's.

    python -m bench.driver PLAN.json RESULT.json

The plan lists runs: a base URL, and for each scenario the fixed number of requests to measure and
the number of concurrent users. Each scenario is measured right after the floor view (same server,
same minute) and the machine's load average is recorded with the pair. A run stops when its fixed
count of measured requests is reached; requests that only prepare (log in, fill a cart) are named
``setup:…`` and not counted. The server tells each response's SQL query count (X-Bench-Queries).
"""

from __future__ import annotations

import gevent.monkey

gevent.monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
DELIVERY = re.compile(r'name="delivery_method" value="([^"]+)"')
REGION = re.compile(r'<option value="(\d+)"')
PARAMS: dict = {}


def csrf(text: str) -> str:
    found = CSRF.search(text)
    if not found:
        raise StopUser("no CSRF token on the page")
    return found.group(1)


class ShopUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def get(self, path, name, **kw):
        return self.client.get(path, name=name, allow_redirects=False, **kw)

    def post(self, path, data, name):
        data = {"csrfmiddlewaretoken": self.token, **data}
        return self.client.post(path, data=data, name=name, allow_redirects=False)

    def fetch_token(self, path="/bench/floor/"):
        slug = random.choice(PARAMS["slugs"])
        self.token = csrf(self.get(f"/products/{slug}/", "setup:page").text)

    def add_to_cart(self, name="setup:add"):
        product = random.choice(PARAMS["product_ids"])
        self.post("/cart/add/", {"product_id": product, "quantity": "1"}, name)

    def admin_login(self):
        page = self.get("/admin/login/", "setup:login")
        self.token = csrf(page.text)
        self.post(
            "/admin/login/?next=/admin/", {"username": "staff", "password": PARAMS["staff_password"]}, "setup:login"
        )

    def checkout(self, measure: bool):
        """Cart → contact → delivery → payment (cash on delivery) → review → Confirm; the order's URL."""
        step = (lambda s: s) if measure else (lambda s: f"setup:{s}")
        self.add_to_cart()
        page = self.get("/checkout/", step("checkout contact"))
        self.token = csrf(page.text)
        region = REGION.search(page.text).group(1)
        self.post(
            "/checkout/",
            {
                "full_name": "Bench Customer",
                "email": f"bench{random.randint(1, 9999)}@example.com",
                "phone": "+79161234567",
                "address": "1 Bench street",
                "city": "Moscow",
                "postcode": "101000",
                "region": region,
            },
            step("checkout contact POST"),
        )
        page = self.get("/checkout/delivery/", step("checkout delivery"))
        method = DELIVERY.search(page.text).group(1)
        self.post("/checkout/delivery/", {"delivery_method": method}, step("checkout delivery POST"))
        self.get("/checkout/payment/", step("checkout payment"))
        self.post("/checkout/payment/", {"payment_method": "cash_courier"}, step("checkout payment POST"))
        page = self.get("/checkout/review/", step("checkout review"))
        found = TOKEN.search(page.text)
        if not found:
            raise StopUser("no confirmation token on the review page")
        done = self.post("/checkout/confirm/", {"token": found.group(1)}, step("Confirm order"))
        return done.headers.get("Location", "")


class Floor(ShopUser):
    @task
    def floor(self):
        self.get("/bench/floor/", "floor")


class ListFirst(ShopUser):
    @task
    def page(self):
        self.get("/", "product list p1")


class ListDeep(ShopUser):
    @task
    def page(self):
        self.get(f"/?page={PARAMS['deep_page']}", "product list deep")


class Detail(ShopUser):
    @task
    def page(self):
        self.get(f"/products/{random.choice(PARAMS['slugs'])}/", "product detail")


class Search(ShopUser):
    @task
    def page(self):
        self.get(f"/?q={random.choice(PARAMS['terms'])}", "search")


class CategoryPage(ShopUser):
    @task
    def page(self):
        self.get(f"/?category={random.choice(PARAMS['categories'])}", "category")


class AddToCart(ShopUser):
    def on_start(self):
        self.fetch_token()

    @task
    def add(self):
        self.add_to_cart(name="add to cart")


class CartPage(ShopUser):
    def on_start(self):
        self.fetch_token()
        for _ in range(5):
            self.add_to_cart()

    @task
    def page(self):
        self.get("/cart/", "cart (5 lines)")


class Checkout(ShopUser):
    def on_start(self):
        self.fetch_token()

    @task
    def flow(self):
        self.checkout(measure=True)


class OrderPage(ShopUser):
    def on_start(self):
        self.fetch_token()
        self.order_url = self.checkout(measure=False).replace("/placed/", "/")

    @task
    def page(self):
        self.get(self.order_url, "order page")


class AdminList(ShopUser):
    def on_start(self):
        self.admin_login()

    @task
    def page(self):
        self.get("/admin/orders/order/", "admin order list")


class AdminOrder(ShopUser):
    def on_start(self):
        self.admin_login()

    @task
    def page(self):
        self.get(f"/admin/orders/order/{random.choice(PARAMS['order_ids'])}/change/", "admin order page")


class WorkQueue(ShopUser):
    def on_start(self):
        self.admin_login()

    @task
    def page(self):
        self.get("/admin/shipping/workqueueorder/", "work queue")


SCENARIOS = {
    "floor": Floor,
    "product list p1": ListFirst,
    "product list deep": ListDeep,
    "product detail": Detail,
    "search": Search,
    "category": CategoryPage,
    "add to cart": AddToCart,
    "cart (5 lines)": CartPage,
    "checkout": Checkout,
    "order page": OrderPage,
    "admin order list": AdminList,
    "admin order page": AdminOrder,
    "work queue": WorkQueue,
}


def measure(base: str, scenario: str, requests: int, users: int) -> dict:
    """Run one scenario until ``requests`` measured requests are done; figures per request name."""
    env = Environment(user_classes=[SCENARIOS[scenario]], host=base, events=events)
    queries: dict[str, list[int]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    done = {"count": 0, "first": None, "last": None}

    def on_request(request_type, name, response_time, response_length, response=None, exception=None, **kw):
        if name.startswith("setup:"):
            return
        now = time.monotonic()
        done["first"] = done["first"] or now - response_time / 1000
        done["last"] = now
        done["count"] += 1
        if exception is not None or (response is not None and response.status_code >= 400):
            errors[name] += 1
        if response is not None and response.headers.get("X-Bench-Queries"):
            queries[name].append(int(response.headers["X-Bench-Queries"]))

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    deadline = time.monotonic() + PARAMS.get("run_timeout", 120)
    while done["count"] < requests and time.monotonic() < deadline:
        gevent.sleep(0.05)
    runner.quit()
    env.events.request.remove_listener(on_request)
    elapsed = max((done["last"] or 0) - (done["first"] or 0), 1e-6)
    steps = {}
    for (name, _method), entry in env.stats.entries.items():
        if name.startswith("setup:") or not entry.num_requests:
            continue
        steps[name] = {
            "requests": entry.num_requests,
            "errors": errors.get(name, 0),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "mean_ms": round(entry.avg_response_time, 1),
            # Closed loop: each user waits for its answer, so a step's own rate is users / mean latency.
            "rps": round(users * 1000 / entry.avg_response_time, 1) if entry.avg_response_time else 0.0,
            "queries_per_request": round(sum(queries[name]) / len(queries[name]), 1) if queries[name] else None,
        }
    return {
        "scenario": scenario,
        "users": users,
        "measured_requests": done["count"],
        "seconds": round(elapsed, 2),
        "rps": round(done["count"] / elapsed, 1),
        "timed_out": done["count"] < requests,
        "steps": steps,
    }


def main() -> None:
    with open(sys.argv[1]) as source:
        plan = json.load(source)
    PARAMS.update(plan["params"])
    results = []
    for run in plan["runs"]:
        floor = measure(plan["base"], "floor", run["floor_requests"], run["users"])
        result = measure(plan["base"], run["scenario"], run["requests"], run["users"])
        result.update(label=run.get("label", run["scenario"]), floor=floor, load_average=list(os.getloadavg()))
        results.append(result)
        print(
            f"  {result['label']:<34} {result['rps']:>7.1f} req/s   floor {floor['rps']:>7.1f} req/s   "
            f"load {result['load_average'][0]:.2f}",
            flush=True,
        )
    with open(sys.argv[2], "w") as out:
        json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
