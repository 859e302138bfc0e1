"""Errors of the fulfilment services, each with a code (tests and callers branch on ``code``).

``field`` names the input the message belongs next to (``method``, ``tracking_number``, ``lines``);
``line_id`` the order line when the quantity of one line is wrong.
"""

from __future__ import annotations

from django.db import models

from shop.errors import ServiceError


class ShipmentErrorCode(models.TextChoices):
    NOT_ALLOWED = "not_allowed", "Not allowed in the order's present state"
    ON_HOLD = "on_hold", "The order is on hold"
    NO_LINES = "no_lines", "Nothing to ship"
    UNKNOWN_LINE = "unknown_line", "Line not in the order"
    BAD_QUANTITY = "bad_quantity", "Not a quantity"
    OVER_OPEN = "over_open", "More than is left to ship"
    UNKNOWN_METHOD = "unknown_method", "No such delivery method"
    TRACKING_REQUIRED = "tracking_required", "Tracking number required"
    TRACKING_FORMAT = "tracking_format", "Not this carrier's tracking number"


class ShipmentError(ServiceError):
    """A shipment cannot be created as asked; nothing changed."""

    def __init__(self, message: str, *, code: str, field: str | None = None, line_id: int | None = None):
        super().__init__(message, code=code)
        self.field = field
        self.line_id = line_id
