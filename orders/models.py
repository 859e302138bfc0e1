"""Order, its lines and its history, and the customer's cash-on-delivery standing."""

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from shop.models import PaymentMethod
from shop.money import format_money


class OrderStatus(models.TextChoices):
    """The fulfilment life only; the allowed moves are in orders/lifecycle.py (one table).

    What was paid is ``Order.payment_status`` (derived from money rows); a temporary stop (price
    confirmation, fraud review, stock decision, a claim) is an ``OrderHold`` row, not a status.
    """

    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PROCESSING = "processing", _("Processing")
    PACKED = "packed", _("Packed")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Arrived, awaiting collection")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused at delivery")


#: SHIP-BUSINESS-HOURS: the statuses the warehouse still works on (the staff work queue, the ship-by
#: digest). A partial index on ``ship_by`` covers exactly these rows.
OPEN_FOR_FULFILMENT = (OrderStatus.PROCESSING, OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED)


class PaymentStatus(models.TextChoices):
    """What the money rows say (payments captured, refunds sent); never set by hand.

    Recomputed by ``payments.ledger.order_payment_status_recompute`` whenever a payment or a
    refund changes (Saleor keeps ``charge_status`` apart from ``status`` the same way).
    """

    UNPAID = "unpaid", _("Not paid")
    PARTIALLY_PAID = "partially_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERPAID = "overpaid", _("Paid more than the total")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


def derive_payment_status(*, total: Decimal, captured: Decimal, refunded: Decimal) -> str:
    """The payment status the money says: ``captured`` taken in, ``refunded`` sent back (amounts).

    Refunds win over the comparison with the total: once money went back the customer sees that.
    """
    if captured <= 0:
        return PaymentStatus.UNPAID
    if refunded >= captured:
        return PaymentStatus.REFUNDED
    if refunded > 0:
        return PaymentStatus.PARTIALLY_REFUNDED
    if captured > total:
        return PaymentStatus.OVERPAID
    if captured < total:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


class HoldKind(models.TextChoices):
    """A temporary stop on an order; while one is open the order cannot be packed or shipped.

    The labels are the customer's words on the order page, translated there (``{% trans %}``); they stay
    English strings here, as the order's events and the staff's messages quote them."""

    # ORD-PRICE-ERROR
    PRICE_CONFIRMATION = "price_confirmation", gettext_noop("Waiting for your answer on a corrected price")
    FRAUD_REVIEW = "fraud_review", gettext_noop("Card payment being checked")  # PAY-FRAUD-CHECK
    STOCK_DECISION = "stock_decision", gettext_noop("Waiting for your choice: an item is unavailable")  # SHIP-STOCKOUT
    CLAIM = "claim", gettext_noop("Return or claim in progress")  # REF-*


_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_order_number() -> str:
    """Human-friendly, unguessable order number such as ``RX-7K4M-9Q2D``."""
    chunk = lambda: "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(4))  # noqa: E731
    return f"RX-{chunk()}-{chunk()}"


class Order(models.Model):
    Status = OrderStatus
    PaymentStatus = PaymentStatus

    number = models.CharField(
        max_length=20, unique=True, default=new_order_number, editable=False, verbose_name=_("number")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        verbose_name=_("user"),
    )
    status = models.CharField(max_length=30, choices=OrderStatus.choices, db_index=True, verbose_name=_("status"))
    payment_status = models.CharField(
        max_length=20,
        choices=PaymentStatus.choices,
        default=PaymentStatus.UNPAID,
        db_index=True,
        editable=False,
        verbose_name=_("payment status"),
    )

    # ORD-FIELDS (phone stored normalised, E.164)
    email = models.EmailField(db_index=True, verbose_name=_("email"))
    full_name = models.CharField(max_length=200, verbose_name=_("full name"))
    phone = models.CharField(max_length=20, db_index=True, verbose_name=_("phone"))
    address = models.TextField(verbose_name=_("address"))
    city = models.CharField(max_length=120, verbose_name=_("city"))
    postcode = models.CharField(max_length=20, blank=True, verbose_name=_("postcode"))
    region = models.ForeignKey("shop.Region", on_delete=models.PROTECT, related_name="orders", verbose_name=_("region"))
    delivery_method = models.ForeignKey(
        "shop.DeliveryMethod", on_delete=models.PROTECT, related_name="orders", verbose_name=_("delivery method")
    )
    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, db_index=True, verbose_name=_("payment method")
    )
    # ORD-INSERTS
    no_marketing_inserts = models.BooleanField(default=False, verbose_name=_("no marketing inserts"))
    # The language the customer ordered in: its e-mails and PDFs are written in it.
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE, verbose_name=_("language")
    )

    # ORD-PRICE-LOCK: copied at confirmation; nothing later changes them (except an accepted
    # ORD-PRICE-ERROR correction, which is an event of its own).
    subtotal = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("subtotal")
    )
    delivery_cost = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("delivery cost")
    )
    discount = MoneyField(
        max_digits=12,
        decimal_places=2,
        default=0,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("discount"),
    )
    # PAY-DISCOUNTS: the part of ``discount`` taken off delivery; the rest is split over the lines.
    delivery_discount = MoneyField(
        max_digits=12,
        decimal_places=2,
        default=0,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("delivery discount"),
    )
    total = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("total")
    )

    # Idempotent confirmation: one order per checkout token (bound to the cart's content).
    checkout_token = models.CharField(max_length=64, unique=True, verbose_name=_("checkout token"))
    # Whether stock was taken for this order (COD at confirmation, prepaid when paid).
    stock_taken = models.BooleanField(default=False, verbose_name=_("stock taken"))

    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    # SHIP-SUBCONTRACTOR: paid (or confirmed, paid on delivery) and past every hold; set once.
    ready_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ready at"))
    # SHIP-WITHIN-2BD: computed by the business calendar from paid_at (or confirmation for COD).
    ship_by = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("ship by"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancel_reason = models.TextField(blank=True, verbose_name=_("cancel reason"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # Issue #14: the admin's order list (newest first, pk as tie-break) reads its page off this
            # index instead of sorting a run of equal created_at values.
            models.Index(fields=["-created_at", "-id"], name="order_newest_first_idx"),
            # SHIP-WITHIN-2BD: the work queue and the digest read open orders by ship-by. Open orders
            # are a small share of all (most are completed), so this index stays small and is read
            # in ship-by order without visiting closed orders (the plain ship_by index holds them all).
            models.Index(
                fields=["ship_by"],
                condition=models.Q(status__in=OPEN_FOR_FULFILMENT),
                name="order_open_ship_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def region_name(self) -> str:
        """The region in the language the order was placed in, so the address is in one script whatever
        language the page, e-mail or PDF is read in (no "125009 Москва, Moscow")."""
        return getattr(self.region, f"name_{self.language}", None) or self.region.name


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(
        "shop.Product", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("product")
    )
    product_name = models.CharField(max_length=200, verbose_name=_("product name"))
    sku = models.CharField(max_length=40, verbose_name=_("sku"))
    unit_price = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("unit price")
    )
    # Per-line counters (Medusa keeps such counters; Oscar per-line event quantities). ``quantity`` is
    # what was ordered; the others are filled by cancellation, fulfilment and claims.
    quantity = models.PositiveIntegerField(_("ordered"))
    quantity_cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("shipped"), default=0)
    quantity_delivered = models.PositiveIntegerField(_("delivered"), default=0)
    quantity_refused = models.PositiveIntegerField(_("refused"), default=0)
    quantity_returned = models.PositiveIntegerField(_("returned"), default=0)
    # SHIP-STOCKOUT: open units that are not on the shelf (found missing at payment or at packing).
    # They were never reserved, or were counted on the shelf but are not there: they never go back to
    # stock (orders/stock.py). They end cancelled, or reserved once the goods arrive (a split order).
    quantity_short = models.PositiveIntegerField(_("short"), default=0)
    line_total = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("line total")
    )
    # PAY-DISCOUNTS: this line's share of every discount (and points spent), so a partial refund gives
    # back what the customer really paid for the units (``net_value``).
    discount = MoneyField(
        max_digits=12,
        decimal_places=2,
        default=0,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("discount"),
    )
    # REF-DEFECT needs the warranty as it was sold.
    warranty_months = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("warranty months"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_qty_pos"),
            models.CheckConstraint(
                condition=models.Q(quantity_cancelled__lte=models.F("quantity")), name="orderline_cancelled_le_ordered"
            ),
            # Never shipped more than ordered minus cancelled.
            models.CheckConstraint(
                condition=models.Q(quantity_shipped__lte=models.F("quantity") - models.F("quantity_cancelled")),
                name="orderline_shipped_le_open",
            ),
            # What was shipped ends delivered or refused, never both beyond what was shipped.
            models.CheckConstraint(
                condition=models.Q(quantity_delivered__lte=models.F("quantity_shipped") - models.F("quantity_refused")),
                name="orderline_outcomes_le_shipped",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_returned__lte=models.F("quantity_delivered")),
                name="orderline_returned_le_delivered",
            ),
            # Only open units can be missing; a missing unit cannot be shipped (SHIP-STOCKOUT).
            models.CheckConstraint(
                condition=models.Q(
                    quantity_short__lte=models.F("quantity")
                    - models.F("quantity_cancelled")
                    - models.F("quantity_shipped")
                ),
                name="orderline_short_le_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    def net_value(self, units: int) -> Decimal:
        """What ``units`` of this line cost the customer after discounts (PAY-DISCOUNTS), rounded once."""
        from shop.money import quantize

        net = self.line_total.amount - self.discount.amount
        if units >= self.quantity:
            return net
        return quantize(net * units / self.quantity, self.line_total.currency)

    @property
    def quantity_open(self) -> int:
        """Ordered, not cancelled, not shipped yet: what fulfilment still owes."""
        return self.quantity - self.quantity_cancelled - self.quantity_shipped

    @property
    def quantity_on_shelf(self) -> int:
        """Open units reserved on the shelf: what can be packed and shipped now (SHIP-STOCKOUT)."""
        return self.quantity_open - self.quantity_short


class OrderEventType(models.TextChoices):
    """Every kind of change an order records; code selects events by these constants, never by string.

    One function per type in orders/events.py writes it (Saleor's ``OrderEvents``).
    """

    PLACED = "placed", _("Order placed")
    READY = "ready", _("Ready to fulfil")
    STAFF_NOTE = "staff_note", _("Staff note")
    STATUS_CHANGED = "status_changed", _("Status changed")
    CANCELLED = "cancelled", _("Cancelled")
    PAID = "paid", _("Payment confirmed")
    PAYMENT_STATUS_CHANGED = "payment_status_changed", _("Payment status changed")
    HOLD_OPENED = "hold_opened", _("Hold opened")
    HOLD_RELEASED = "hold_released", _("Hold released")
    STOCK_TAKEN = "stock_taken", _("Stock reserved")
    STOCK_RELEASED = "stock_released", _("Stock returned")
    STOCK_SHORT = "stock_short", _("Stock short")
    # SHIP-STOCKOUT: the customer's choice and its outcomes (shipping/services/stockout.py).
    STOCKOUT_CHOSEN = "stockout_chosen", _("Choice for unavailable items")
    STOCKOUT_TIMED_OUT = "stockout_timed_out", _("No choice for unavailable items in time")
    STOCKOUT_PART_CANCELLED = "stockout_part_cancelled", _("Unavailable items cancelled")
    STOCKOUT_DATE_SET = "stockout_date_set", _("Date set for the unavailable items")
    STOCKOUT_MISSING_RESERVED = "stockout_missing_reserved", _("Unavailable items arrived")
    ADJUSTED = "adjusted", _("Amount owed changed")
    PRICE_ERROR_MARKED = "price_error_marked", _("Price corrected")
    PRICE_ERROR_ACCEPTED = "price_error_accepted", _("Corrected price accepted")
    PRICE_ERROR_DECLINED = "price_error_declined", _("Corrected price declined")
    PRICE_ERROR_TIMED_OUT = "price_error_timed_out", _("Corrected price not answered in time")
    FRAUD_REVIEW_APPROVED = "fraud_review_approved", _("Card payment approved")
    FRAUD_REVIEW_REJECTED = "fraud_review_rejected", _("Card payment rejected")
    EMAIL_QUEUED = "email_queued", _("E-mail queued")
    PAYMENT_STARTED = "payment_started", _("Payment started")
    PAYMENT_MOVED = "payment_moved", _("Payment status")
    PAYMENT_RECEIVED_AT_DOOR = "payment_confirmed", _("Paid at the door")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    PAYMENT_REVIEW = "payment_review", _("Payment held for review")
    REFUND_REQUESTED = "refund_requested", _("Refund started")
    REFUND_MOVED = "refund_moved", _("Refund status")
    REFUND_SENT = "refund_sent", _("Refund sent")
    REFUND_FAILED = "refund_failed", _("Refund failed")
    REFUND_BANK_DETAILS = "refund_bank_details", _("Refund bank account received")
    # Written by the delivery side (fulfilment issue); read by PAY-COD-RESTRICT (orders/standing.py).
    ITEMS_REFUSED = "items_refused", _("Items refused at delivery")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    # Written by shipping/services/delivery.py (DLV-HANDOVER, DLV-ACCEPT-14D, SHIP-ADDRESS-CHANGE).
    HANDED_OVER = "handed_over", _("Parcel handed over")
    AWAITING_COLLECTION = "awaiting_collection", _("Parcel awaiting collection")
    NOT_COLLECTED = "not_collected", _("Parcel not collected in time")
    REDELIVERY_ARRANGED = "redelivery_arranged", _("Re-delivery or address change arranged")
    # Written by shipping/services/parcels.py (REF-SHORT-DELIVERY, DLV-LATE, DLV-LOST).
    DISCREPANCY_ACT = "discrepancy_act", _("Act of Discrepancy drawn up")
    PARCEL_LOST = "parcel_lost", _("Parcel lost in transit")
    PARCEL_RESHIP = "parcel_reship", _("Parcel to be sent again")

    # SHIP-SUBCONTRACTOR (shipping/services/partners.py): the fulfilment partner is told of the order.
    PARTNER_NOTIFIED = "partner_notified", _("Sent to the fulfilment partner")
    PARTNER_NOTICE_DELIVERED = "partner_notice_delivered", _("Fulfilment partner confirmed receipt")

    # SHIP-NOTICES: a parcel left (shipping.services.shipments); PayPal was told its tracking number.
    SHIPMENT_SENT = "shipment_sent", _("Parcel shipped")
    PAYPAL_TRACKER_ADDED = "paypal_tracker_added", _("Tracking number added at PayPal")
    PAYPAL_TRACKER_FAILED = "paypal_tracker_failed", _("PayPal refused the tracking number")

    # REF-*: after-sale cases (refunds/services): opened, moved, goods back, a replacement order.
    CASE_OPENED = "case_opened", "Case opened"
    CASE_MOVED = "case_moved", "Case status"
    CASE_GOODS_RECEIVED = "case_goods_received", "Returned goods received"
    CASE_GOODS_SETTLED = "case_goods_settled", "Returned goods restocked or written off"
    CASE_REPLACEMENT_ORDERED = "case_replacement_ordered", "Replacement order created"

    # PAY-DISCOUNTS (orders/bonus.py): points earned, spent, returned or taken back.
    BONUS_POINTS = "bonus_points", "Bonus points"


class OrderEvent(models.Model):
    """One row for every change of an order (written only by orders/events.py)."""

    Type = OrderEventType

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    type = models.CharField(max_length=40, choices=OrderEventType.choices, db_index=True, verbose_name=_("type"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    message = models.CharField(max_length=300, help_text=_("What happened, in words."), verbose_name=_("message"))
    customer_visible = models.BooleanField(default=False, verbose_name=_("customer visible"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        # The message alone, in the reader's language: the order is the page it is shown on (no query
        # per timeline row).
        return self.text

    @property
    def text(self) -> str:
        """The message in the active language: a sentence written through ``events._say`` is kept as its
        msgid and values and translated here; older rows (and staff-only events) show ``message``."""
        say = (self.parameters or {}).get("say")
        if not say:
            return self.message
        try:
            return gettext(say["msgid"]) % {name: _event_value(value) for name, value in say["values"].items()}
        except (KeyError, TypeError, ValueError):  # a sentence or value this code no longer knows
            return self.message


#: The choices a timeline sentence may name (``events.Choice``): shown as their label when read. Apps
#: above orders add theirs with ``register_event_choices`` (their AppConfig.ready).
EVENT_CHOICES = {"order_status": OrderStatus, "payment_status": PaymentStatus, "hold": HoldKind}


def register_event_choices(kind: str, choices: type[models.TextChoices]) -> None:
    """Let timeline sentences name ``choices`` (a peer app's TextChoices) as ``events.Choice(kind, value)``."""
    EVENT_CHOICES[kind] = choices


def _event_value(value):
    """A stored value of a timeline sentence as the reader sees it: money, dates and choices in their language."""
    if isinstance(value, dict):
        if "amount" in value and "currency" in value:
            return format_money(Decimal(value["amount"]), value["currency"])
        if "choice" in value:
            # gettext again: HoldKind's labels are gettext_noop (plain English); a lazy label is translated already
            label = gettext(str(EVENT_CHOICES[value["choice"]](value["value"]).label))
            return label.lower() if value.get("lower") else label
        if "text" in value:  # events.Phrase: a phrase of the code, translated; a gateway's words stay as they are
            text = gettext(value["text"])
            values = value.get("values")
            return text % {name: _event_value(v) for name, v in values.items()} if values else text
        if "date" in value:
            return date_format(dt.date.fromisoformat(value["date"]), "DATE_FORMAT")
    return value


class CustomerStanding(models.Model):
    """PAY-COD-RESTRICT: whether a customer (by e-mail, so guests count too) may pay on delivery."""

    email = models.EmailField(unique=True, verbose_name=_("email"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    cod_allowed = models.BooleanField(default=True, verbose_name=_("cod allowed"))
    cod_reason = models.CharField(max_length=300, blank=True, verbose_name=_("cod reason"))
    misconduct = models.BooleanField(default=False, verbose_name=_("misconduct"))
    misconduct_note = models.TextField(blank=True, verbose_name=_("misconduct note"))
    # Staff lifted the restriction: only evidence newer than this moment counts again.
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("customer standing")
        verbose_name_plural = _("customer standings")

    def __str__(self) -> str:
        return self.email


class CustomerStandingLog(models.Model):
    standing = models.ForeignKey(
        CustomerStanding, on_delete=models.CASCADE, related_name="log", verbose_name=_("standing")
    )
    cod_allowed = models.BooleanField(verbose_name=_("cod allowed"))
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("standing change")
        verbose_name_plural = _("standing changes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{'allowed' if self.cod_allowed else 'withdrawn'}: {self.reason}"


class AdjustmentKind(models.TextChoices):
    FEE = "fee", "Fee"  # SHIP-ADDRESS-CHANGE: address change or re-delivery after dispatch
    CANCELLED_PART = "cancelled_part", "Cancelled part"  # SHIP-STOCKOUT: a missing part cancelled
    NOT_COLLECTED = "not_collected", "Not collected"  # DLV-ACCEPT-14D: goods back, delivery kept
    # DLV-INSPECT: items refused at handover are not owed. Not CANCELLED_PART: those never left the
    # warehouse (SHIP-STOCKOUT); refused ones went out and came back, and claims tell the two apart.
    REFUSED_AT_DOOR = "refused_at_door", _("Refused at delivery")


class OrderAdjustment(models.Model):
    """A change to what the customer owes after confirmation (ORD-PRICE-LOCK keeps ``Order.total``).

    What is owed is ``total + sum(adjustments)`` (``orders.pricing.order_amount_due``): a fee is
    positive, a cancelled part negative. Written only by ``orders.services.order_adjust``.
    """

    Kind = AdjustmentKind

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="adjustments", verbose_name=_("order"))
    kind = models.CharField(max_length=20, choices=AdjustmentKind.choices, verbose_name=_("kind"))
    amount = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("amount")
    )
    reason = models.CharField(max_length=300, verbose_name=_("reason"))
    # Makes the service idempotent: one adjustment per key (e.g. "redelivery:<attempt id>").
    key = models.CharField(max_length=120, unique=True, verbose_name=_("key"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order adjustment")
        verbose_name_plural = _("order adjustments")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="orderadjustment_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount}"


class PriceCorrection(models.Model):
    """ORD-PRICE-ERROR: staff corrected one line's unit price; pending until the customer answers."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="price_corrections", verbose_name=_("order")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="price_corrections", verbose_name=_("line")
    )
    old_unit_price = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("old unit price")
    )
    new_unit_price = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("new unit price")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    resolved = models.BooleanField(default=False, verbose_name=_("resolved"))
    # None while pending; True accepted, False declined or timed out.
    accepted = models.BooleanField(null=True, blank=True, verbose_name=_("accepted"))

    class Meta:
        verbose_name = _("price correction")
        verbose_name_plural = _("price corrections")
        ordering = ["pk"]
        indexes = [models.Index(fields=["order", "resolved"])]

    def __str__(self) -> str:
        return f"{self.line}: {self.old_unit_price} → {self.new_unit_price}"


class OrderHold(models.Model):
    """A temporary stop on an order, with its own deadline; opened and released by orders/holds.py.

    While any hold is open the order cannot be packed or shipped (``orders.lifecycle``). At most one
    open hold of each kind per order (a partial unique constraint); a released hold stays as history.
    """

    Kind = HoldKind

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds", verbose_name=_("order"))
    kind = models.CharField(max_length=30, choices=HoldKind.choices, verbose_name=_("kind"))
    opened_at = models.DateTimeField(default=timezone.now, verbose_name=_("opened at"))
    # The answer or decision is due by this moment (stored, indexed: one query finds what is due).
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    resolution = models.CharField(max_length=300, blank=True, verbose_name=_("resolution"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("released by"),
    )

    class Meta:
        verbose_name = _("order hold")
        verbose_name_plural = _("order holds")
        ordering = ["opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=models.Q(released_at__isnull=True),
                name="orderhold_one_open_per_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "due_at"], condition=models.Q(released_at__isnull=True), name="orderhold_open_due_idx"
            ),
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "open"
        return f"{self.get_kind_display()} ({state})"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


# --- PAY-DISCOUNTS: discounts staff run, and the bonus programme's ledger ---------------------
class DiscountKind(models.TextChoices):
    PERCENT = "percent", "Percentage"
    FIXED = "fixed", "Fixed amount"


class DiscountTarget(models.TextChoices):
    ORDER = "order", "Whole order (the goods)"
    ITEMS = "items", "Some products or categories (each matching line)"
    DELIVERY = "delivery", "Delivery"


#: Shown to staff in the admin and stated in README: the one overlap rule (``orders.discounts``).
OVERLAP_RULE = (
    "How discounts combine: each line of the cart gets at most one product/category discount (the one that "
    "saves most on that line); then the single best whole-order discount applies to what the goods cost after "
    "that; the single best delivery discount applies to delivery; bonus points are spent last. A code the "
    "customer types competes under the same rule. A fixed product/category discount is taken off every "
    "matching unit."
)


class Discount(models.Model):
    """PAY-DISCOUNTS: a discount staff run; which one applies is decided by ``orders.discounts`` only."""

    Kind = DiscountKind
    Target = DiscountTarget

    name = models.CharField(
        max_length=120, help_text=_("Shown to customers, e.g. “Winter sale” or “PayPal week”."), verbose_name=_("name")
    )
    kind = models.CharField(
        max_length=10, choices=DiscountKind.choices, default=DiscountKind.PERCENT, verbose_name=_("kind")
    )
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "Percent (e.g. 5 for 5 %) or an amount in the prices' currency. A fixed product/category "
            "discount is taken off every matching unit."
        ),
        verbose_name=_("value"),
    )
    target = models.CharField(
        max_length=10, choices=DiscountTarget.choices, default=DiscountTarget.ORDER, verbose_name=_("target")
    )
    products = models.ManyToManyField("shop.Product", blank=True, related_name="+", verbose_name=_("products"))
    categories = models.ManyToManyField("shop.Category", blank=True, related_name="+", verbose_name=_("categories"))
    payment_method = models.CharField(
        max_length=20,
        choices=PaymentMethod.choices,
        blank=True,
        help_text=_("Only when the customer pays this way (promotes a payment method). Empty: any method."),
        verbose_name=_("payment method"),
    )
    delivery_method = models.ForeignKey(
        "shop.DeliveryMethod",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only when the customer chooses this delivery method. Empty: any method."),
        verbose_name=_("delivery method"),
    )
    starts_at = models.DateTimeField(default=timezone.now, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty: runs until switched off."), verbose_name=_("ends at")
    )
    code = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("If set, the discount applies only when the customer types this code (case does not matter)."),
        verbose_name=_("code"),
    )
    usage_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("How many orders may use it in total. Empty: no limit."),
        verbose_name=_("usage limit"),
    )
    per_customer_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("How many orders one customer (by e-mail) may use it for. Empty: no limit."),
        verbose_name=_("per customer limit"),
    )
    min_order_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("The goods must cost at least this much (before discounts)."),
        verbose_name=_("min order value"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        ordering = ["-starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="discount_code_unique"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100), name="discount_percent_le_100"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="discount_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "starts_at"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    @property
    def value_label(self) -> str:
        return f"{self.value.normalize():f} %" if self.kind == DiscountKind.PERCENT else f"{self.value:,.2f}"


class OrderDiscount(models.Model):
    """A discount line of an order (a discount, or bonus points spent), as confirmed (ORD-PRICE-LOCK).

    The same lines, to the kopeck, are on the order page, the invoice and PayPal's breakdown.
    ``discount`` is empty for bonus points. A row for a discount is also one *use* of it (usage limits).
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discount_lines", verbose_name=_("order"))
    discount = models.ForeignKey(
        Discount, null=True, blank=True, on_delete=models.PROTECT, related_name="uses", verbose_name=_("discount")
    )
    label = models.CharField(max_length=200, verbose_name=_("label"))
    code = models.CharField(max_length=40, blank=True, verbose_name=_("code"))
    target = models.CharField(max_length=10, choices=DiscountTarget.choices, verbose_name=_("target"))
    amount = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("amount")
    )
    # Kept for the per-customer limit (guests count by e-mail, as for PAY-COD-RESTRICT).
    email = models.EmailField(blank=True, db_index=True, verbose_name=_("email"))

    class Meta:
        verbose_name = _("order discount")
        verbose_name_plural = _("order discounts")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "discount"], name="orderdiscount_one_per_discount"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="orderdiscount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: −{self.amount}"


class BonusAccount(models.Model):
    """PAY-DISCOUNTS bonus programme: a customer's points. ``balance`` is the ledger's sum, kept with it
    under this row's lock (``shop.locks.lock_bonus_account``); a CHECK keeps it from going negative."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bonus_account", verbose_name=_("user")
    )
    balance = models.IntegerField(default=0, verbose_name=_("balance"))

    class Meta:
        verbose_name = _("bonus account")
        verbose_name_plural = _("bonus accounts")
        constraints = [models.CheckConstraint(condition=models.Q(balance__gte=0), name="bonusaccount_not_negative")]

    def __str__(self) -> str:
        return f"{self.user}: {self.balance} points"


class BonusEntryKind(models.TextChoices):
    EARNED = "earned", _("Earned on a completed order")
    SPENT = "spent", _("Spent at checkout")
    RETURNED = "returned", _("Returned: order cancelled")
    TAKEN_BACK = "taken_back", _("Taken back: order refunded")


class BonusEntry(models.Model):
    """One line of the bonus ledger (written only by ``orders.bonus``)."""

    Kind = BonusEntryKind

    account = models.ForeignKey(
        BonusAccount, on_delete=models.CASCADE, related_name="entries", verbose_name=_("account")
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="bonus_entries", verbose_name=_("order"))
    kind = models.CharField(max_length=12, choices=BonusEntryKind.choices, verbose_name=_("kind"))
    points = models.IntegerField(
        help_text=_("Positive: added to the balance; negative: taken from it."), verbose_name=_("points")
    )
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bonus entry")
        verbose_name_plural = _("bonus entries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="bonusentry_not_zero"),
            # One earning, one spending, one return per order; take-backs may be several (partial refunds).
            models.UniqueConstraint(
                fields=["order", "kind"], condition=~models.Q(kind="taken_back"), name="bonusentry_once_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} ({self.get_kind_display()})"
