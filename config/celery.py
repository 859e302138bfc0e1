"""The Celery app. Tasks are discovered per app; the beat schedule lives in one place below."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The one beat schedule. Periodic tasks sweep stored, indexed deadlines; each is idempotent.
app.conf.beat_schedule = {
    "emails-retry-unsent": {"task": "shop.tasks.emails_retry_unsent", "schedule": crontab(minute="*/5")},
    "orders-price-error-timeouts": {
        "task": "orders.tasks.orders_cancel_unanswered_price_errors",
        "schedule": crontab(minute="*/10"),
    },
    "payments-reconcile-stale": {
        "task": "payments.tasks.payments_reconcile_stale",
        "schedule": crontab(minute="*/15"),
    },
    "shipping-stockout-timeouts": {
        "task": "shipping.tasks.stockouts_cancel_unanswered",
        "schedule": crontab(minute="*/10"),
    },
    "payments-refunds-sweep": {"task": "payments.tasks.payments_refunds_sweep", "schedule": crontab(minute="*/5")},
    # DLV-ACCEPT-14D: the collection window (calendar days, so every day, weekends and holidays too).
    "shipping-collection-reminders": {
        "task": "shipping.tasks.shipments_remind_collection",
        "schedule": crontab(minute=7),
    },
    "shipping-collection-expiry": {
        "task": "shipping.tasks.shipments_expire_uncollected",
        "schedule": crontab(minute=17),
    },
    # DLV-LATE: the shop opens an investigation itself for parcels late by the Policy's margin (a day's work:
    # hourly is plenty; batched and idempotent).
    "shipping-late-parcels": {"task": "shipping.tasks.parcels_investigate_late", "schedule": crontab(minute=27)},
    # SHIP-WITHIN-2BD: the staff digest of orders at risk or overdue (the service skips closed hours).
    "shipping-ship-by-digest": {"task": "shipping.tasks.shipping_ship_by_digest", "schedule": crontab(minute="*/15")},
    "shipping-partner-notices-sweep": {
        "task": "shipping.tasks.partner_notices_sweep",
        "schedule": crontab(minute="*/5"),
    },
    # REF-SLA: staff hear of refunds due within a business day and overdue ones (the service skips closed
    # hours and sends one e-mail per day for the same cases).
    "refunds-due-digest": {"task": "refunds.tasks.refunds_due_digest", "schedule": crontab(minute="*/30")},
    "payments-paypal-trackers-sweep": {
        "task": "payments.tasks.payments_paypal_trackers_sweep",
        "schedule": crontab(minute="*/5"),
    },
}
