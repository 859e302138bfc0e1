"""Errors of the order services, each with a code (Saleor's ``error_codes.py``).

Callers (views, admin, tests) branch on ``error.code``, never on the message text; the message is
for the person who asked and is shown next to the field or at the top of the page.
"""

from __future__ import annotations

from django.db import models

from shop.errors import ServiceError


class OrderErrorCode(models.TextChoices):
    NOT_ALLOWED = "not_allowed", "Not allowed in the order's present state"
    ON_HOLD = "on_hold", "The order is on hold"
    ALREADY_WAITING = "already_waiting", "Already waiting for the customer"
    NO_CORRECTION = "no_correction", "No corrected price given"
    UNKNOWN_LINE = "unknown_line", "Line not in the order"
    NEGATIVE_PRICE = "negative_price", "Negative price"
    SAME_PRICE = "same_price", "Price unchanged"
    PAID_PRICE_RISE = "paid_price_rise", "Price rise on a paid order"
    ANSWER_TOO_LATE = "answer_too_late", "Answer after the deadline"
    NOT_IN_FRAUD_REVIEW = "not_in_fraud_review", "Not waiting for a fraud review"
    NO_TEXT = "no_text", "Nothing written"


class OrderActionError(ServiceError):
    """A staff or customer action on an order cannot be done as asked; the message says why. Nothing changed."""
