"""Seed PostgreSQL with a scaled shop, fast: rows are written with COPY, not one INSERT each.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --products 10000 --orders 100000 --carts 1000

Seeding only adds: ``--products N`` tops the catalogue up to N products, ``--orders N`` the order
history up to N orders (each with lines, events and, where money moved, a payment), so the bench
measures at 1k, then 10k, then 100k rows by topping up. The demo shop (load_demo) provides the
regions, delivery methods, categories, the policy and the staff user.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import timedelta
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from orders.models import Order, OrderEvent, OrderLine  # noqa: E402
from payments.models import Payment  # noqa: E402
from shop.models import Cart, CartLine, Category, DeliveryMethod, Product, Region  # noqa: E402

STAFF_PASSWORD = "bench-staff-2026"
WORDS = [
    *[
        "binocular",
        "lens",
        "scope",
        "prism",
        "tripod",
        "filter",
        "hood",
        "cap",
        "strap",
        "case",
        "adapter",
        "mount",
        "cleaner",
        "monocular",
    ],
    *[
        "eyepiece",
        "reticle",
        "rangefinder",
        "spotting",
        "zoom",
        "compact",
        "marine",
        "hunting",
        "birding",
        "astro",
        "night",
        "vision",
    ],
]
# Historical orders: mostly finished, some still in every open status (the shape of a real shop).
STATUS_SHARE = [
    (Order.Status.COMPLETED, 60),
    (Order.Status.CANCELLED, 10),
    (Order.Status.SHIPPED, 7),
    (Order.Status.DELIVERED, 4),
    (Order.Status.REFUSED, 3),
    (Order.Status.PROCESSING, 6),
    (Order.Status.PACKED, 3),
    (Order.Status.PARTIALLY_SHIPPED, 1),
    (Order.Status.AWAITING_PAYMENT, 6),
]
_STATUSES = [status for status, share in STATUS_SHARE for _ in range(share)]


_MISSING = object()


def _fill(field: models.Field, now):
    """What Django would have written for a column the seed leaves out."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        value = field.get_default()
        return getattr(value, "amount", value)  # a MoneyField's default is a Money
    if field.null:
        return None
    if isinstance(field, (models.CharField, models.TextField)):
        return ""
    raise ValueError(f"bench.seed: no value for {field.model.__name__}.{field.attname}")


def copy_rows(model: type[models.Model], rows: list[dict]) -> None:
    """COPY ``rows`` (dicts by attname, ids included) into the model's table; defaults fill the rest.

    Values go to psycopg as they are (it adapts str, Decimal, datetime, bool, None); only JSON
    columns go through Django's field preparation. Defaults are computed once per call.
    """
    if not rows:
        return
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    fills = {f.attname: _fill(f, now) for f in fields if f.attname not in rows[0]}
    json = {f.attname: f for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = []
            for name in names:
                value = row.get(name, _MISSING)
                if value is _MISSING:
                    value = fills[name]
                if name in json:
                    value = json[name].get_db_prep_save(value, connection=connection)
                values.append(value)
            copy.write_row(values)


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequence(*models_) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(sql)


def base() -> None:
    """The demo shop (regions, delivery, categories, policy, staff user 'staff')."""
    if not Region.objects.exists():
        call_command("load_demo", force=True, staff_password=STAFF_PASSWORD, verbosity=0)


def product_name(i: int) -> str:
    rng = random.Random(i)
    return f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.randint(4, 20)}x{rng.randint(20, 60)} #{i}"


@transaction.atomic
def seed_products(total: int) -> int:
    have = Product.objects.count()
    if have >= total:
        return 0
    categories = list(Category.objects.values_list("pk", flat=True))
    start = _next_id(Product)
    rows = []
    for i in range(start, start + total - have):
        rng = random.Random(i)
        rows.append(
            {
                "id": i,
                "category_id": categories[i % len(categories)],
                "name": product_name(i),
                "slug": f"bench-product-{i}",
                "sku": f"BENCH-{i:07d}",
                "description": "A product of the bench catalogue. " * 4,
                "price": Decimal(rng.randint(500, 90000)),
                "price_currency": "RUB",
                "stock": rng.choice([0, 3, 50, 100_000]) if i % 10 == 0 else 100_000,
                "is_active": i % 50 != 0,
            }
        )
    copy_rows(Product, rows)
    _reset_sequence(Product)
    return len(rows)


@transaction.atomic
def seed_orders(total: int) -> int:
    have = Order.objects.count()
    if have >= total:
        return 0
    regions = list(Region.objects.filter(in_territory=True).values_list("pk", flat=True))
    methods = list(DeliveryMethod.objects.values_list("pk", flat=True))
    products = list(Product.objects.values_list("pk", "name", "sku", "price")[:2000])
    order_id, line_id, event_id, payment_id = (_next_id(m) for m in (Order, OrderLine, OrderEvent, Payment))
    now = timezone.now()
    orders, lines, events, payments = [], [], [], []
    for i in range(order_id, order_id + total - have):
        rng = random.Random(i)
        status = _STATUSES[i % len(_STATUSES)]
        created = now - timedelta(days=rng.randint(1, 3 * 365), minutes=rng.randint(0, 1440))
        method = "cash_courier" if i % 3 == 0 else "paypal"
        paid = status not in (Order.Status.AWAITING_PAYMENT, Order.Status.CANCELLED) and method == "paypal"
        subtotal = Decimal(0)
        for _ in range(1 + i % 3):
            pk, name, sku, price = rng.choice(products)
            quantity = 1 + rng.randint(0, 2)
            shipped = (
                quantity if status in (Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.COMPLETED) else 0
            )
            lines.append(
                {
                    "id": line_id,
                    "order_id": i,
                    "product_id": pk,
                    "product_name": name,
                    "sku": sku,
                    "unit_price": price,
                    "unit_price_currency": "RUB",
                    "quantity": quantity,
                    "quantity_cancelled": quantity if status == Order.Status.CANCELLED else 0,
                    "quantity_shipped": shipped,
                    "quantity_delivered": shipped if status == Order.Status.COMPLETED else 0,
                    "line_total": price * quantity,
                    "line_total_currency": "RUB",
                }
            )
            line_id += 1
            subtotal += price * quantity
        open_status = status in (Order.Status.PROCESSING, Order.Status.PACKED, Order.Status.PARTIALLY_SHIPPED)
        orders.append(
            {
                "id": i,
                "number": f"BX-{i:08d}",
                "status": status,
                "payment_status": "paid" if paid else "unpaid",
                "email": f"customer{i % 20000}@example.com",
                "full_name": f"Customer {i % 20000}",
                "phone": f"+7916{i % 10_000_000:07d}",
                "address": f"{i % 200} Bench street",
                "city": "Moscow",
                "postcode": "101000",
                "region_id": regions[i % len(regions)],
                "delivery_method_id": methods[i % len(methods)],
                "payment_method": method,
                "subtotal": subtotal,
                "subtotal_currency": "RUB",
                "delivery_cost": Decimal("350.00"),
                "delivery_cost_currency": "RUB",
                "discount": Decimal(0),
                "discount_currency": "RUB",
                "total": subtotal + Decimal("350.00"),
                "total_currency": "RUB",
                "checkout_token": f"bench-{i}",
                "stock_taken": status != Order.Status.AWAITING_PAYMENT,
                "created_at": created,
                "paid_at": created + timedelta(minutes=5) if paid else None,
                "ready_at": created + timedelta(minutes=6) if status != Order.Status.AWAITING_PAYMENT else None,
                # Open orders fall due over the next days (none overdue: the digest measures its own).
                "ship_by": now + timedelta(days=2 + i % 5) if open_status else None,
                "cancelled_at": created + timedelta(hours=2) if status == Order.Status.CANCELLED else None,
            }
        )
        kinds = [("placed", "Order placed.")]
        if paid:
            kinds.append(("paid", "Payment confirmed."))
        if status != Order.Status.AWAITING_PAYMENT:
            kinds.append(("status_changed", f"Status: {status}."))
        for offset, (kind, message) in enumerate(kinds):
            events.append(
                {
                    "id": event_id,
                    "order_id": i,
                    "type": kind,
                    "message": message,
                    "customer_visible": True,
                    "created_at": created + timedelta(minutes=offset),
                }
            )
            event_id += 1
        if paid:
            payments.append(
                {
                    "id": payment_id,
                    "order_id": i,
                    "method": method,
                    "gateway": "paypal",
                    "status": "completed",
                    "amount": subtotal + Decimal("350.00"),
                    "amount_currency": "RUB",
                    "capture_id": f"BENCHCAP{i}",
                    "created_at": created,
                    "confirmed_at": created + timedelta(minutes=5),
                }
            )
            payment_id += 1
    for model, rows in ((Order, orders), (OrderLine, lines), (OrderEvent, events), (Payment, payments)):
        for start in range(0, len(rows), 20_000):
            copy_rows(model, rows[start : start + 20_000])
    _reset_sequence(Order, OrderLine, OrderEvent, Payment)
    return len(orders)


@transaction.atomic
def seed_carts(total: int) -> int:
    have = Cart.objects.filter(session_key__startswith="bench-cart-").count()
    if have >= total:
        return 0
    products = list(Product.objects.filter(is_active=True, stock__gt=100).values_list("pk", flat=True)[:1000])
    cart_id, line_id = _next_id(Cart), _next_id(CartLine)
    carts, lines = [], []
    for i in range(cart_id, cart_id + total - have):
        carts.append({"id": i, "session_key": f"bench-cart-{i}"})
        for product in random.Random(i).sample(products, 1 + i % 5):
            lines.append({"id": line_id, "cart_id": i, "product_id": product, "quantity": 1})
            line_id += 1
    copy_rows(Cart, carts)
    copy_rows(CartLine, lines)
    _reset_sequence(Cart, CartLine)
    return len(carts)


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--carts", type=int, default=1_000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    base()
    added = (seed_products(args.products), seed_orders(args.orders), seed_carts(args.carts))
    analyze()
    print(
        f"bench.seed: added {added[0]} products, {added[1]} orders, {added[2]} carts "
        f"in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
