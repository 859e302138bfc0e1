"""Order, its lines and its history, and the customer's cash-on-delivery standing."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from djmoney.models.fields import MoneyField

from shop.models import PaymentMethod


class OrderStatus(models.TextChoices):
    # The allowed moves between these are in orders/lifecycle.py (one table).
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    FRAUD_CHECK = "fraud_check", "Paid, being checked"
    PAID = "paid", "Paid"
    PRICE_CONFIRMATION = "price_confirmation", "Waiting for your answer on a corrected price"
    PROCESSING = "processing", "Processing"
    STOCK_DECISION = "stock_decision", "Waiting for your choice: an item is unavailable"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Arrived, awaiting collection"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUSED = "refused", "Refused at delivery"
    CLAIM_OPEN = "claim_open", "Return or claim in progress"
    REFUNDED = "refunded", "Refunded"


_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_order_number() -> str:
    """Human-friendly, unguessable order number such as ``RX-7K4M-9Q2D``."""
    chunk = lambda: "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(4))  # noqa: E731
    return f"RX-{chunk()}-{chunk()}"


class Order(models.Model):
    Status = OrderStatus

    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    status = models.CharField(max_length=30, choices=OrderStatus.choices, db_index=True)
    # The status to return to when the customer accepts a corrected price (ORD-PRICE-ERROR).
    status_before_price_check = models.CharField(max_length=30, choices=OrderStatus.choices, blank=True)

    # ORD-FIELDS (phone stored normalised, E.164)
    email = models.EmailField(db_index=True)
    full_name = models.CharField(max_length=200)
    phone = models.CharField(max_length=20, db_index=True)
    address = models.TextField()
    city = models.CharField(max_length=120)
    postcode = models.CharField(max_length=20, blank=True)
    region = models.ForeignKey("shop.Region", on_delete=models.PROTECT, related_name="orders")
    delivery_method = models.ForeignKey("shop.DeliveryMethod", on_delete=models.PROTECT, related_name="orders")
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, db_index=True)
    # ORD-INSERTS
    no_marketing_inserts = models.BooleanField(default=False)

    # ORD-PRICE-LOCK: copied at confirmation; nothing later changes them (except an accepted
    # ORD-PRICE-ERROR correction, which is an event of its own).
    subtotal = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    delivery_cost = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    discount = MoneyField(max_digits=12, decimal_places=2, default=0, default_currency=settings.DEFAULT_CURRENCY)
    total = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)

    # Idempotent confirmation: one order per checkout token (bound to the cart's content).
    checkout_token = models.CharField(max_length=64, unique=True)
    # Whether stock was taken for this order (COD at confirmation, prepaid when paid).
    stock_taken = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # SHIP-WITHIN-2BD: computed by the business calendar from paid_at (or confirmation for COD).
    ship_by = models.DateTimeField(null=True, blank=True, db_index=True)
    # ORD-PRICE-ERROR: the customer's answer is due by this moment.
    price_answer_by = models.DateTimeField(null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines.all())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("shop.Product", null=True, on_delete=models.SET_NULL, related_name="+")
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=40)
    unit_price = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    quantity = models.PositiveIntegerField()
    line_total = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    # REF-DEFECT needs the warranty as it was sold.
    warranty_months = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_qty_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"


class OrderEvent(models.Model):
    """One row for every change of an order (written only by orders/events.py)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    parameters = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, help_text="What happened, in words.")
    customer_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order}: {self.message}"


class CustomerStanding(models.Model):
    """PAY-COD-RESTRICT: whether a customer (by e-mail, so guests count too) may pay on delivery."""

    email = models.EmailField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cod_allowed = models.BooleanField(default=True)
    cod_reason = models.CharField(max_length=300, blank=True)
    misconduct = models.BooleanField(default=False)
    misconduct_note = models.TextField(blank=True)
    # Staff lifted the restriction: only evidence newer than this moment counts again.
    lifted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "customer standing"

    def __str__(self) -> str:
        return self.email


class CustomerStandingLog(models.Model):
    standing = models.ForeignKey(CustomerStanding, on_delete=models.CASCADE, related_name="log")
    cod_allowed = models.BooleanField()
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{'allowed' if self.cod_allowed else 'withdrawn'}: {self.reason}"


class PriceCorrection(models.Model):
    """ORD-PRICE-ERROR: staff corrected one line's unit price; pending until the customer answers."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="price_corrections")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="price_corrections")
    old_unit_price = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    new_unit_price = MoneyField(max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)
    # None while pending; True accepted, False declined or timed out.
    accepted = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["order", "resolved"])]

    def __str__(self) -> str:
        return f"{self.line}: {self.old_unit_price} → {self.new_unit_price}"
