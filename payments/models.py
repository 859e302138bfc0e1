"""Payments in (PayPal, card online through PayPal, bank transfer, at the door), refunds out, webhook events.

Money columns are django-money ``MoneyField``s. The database itself refuses a refund total above
what was captured (PAY-REFUND-SAME-WAY): ``payment_refunded_le_captured``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from encrypted_fields.fields import EncryptedCharField

from orders.models import Order
from shop.models import PaymentMethod


class Gateway(models.TextChoices):
    PAYPAL = "paypal", "PayPal"  # PayPal wallet and bank cards online (PayPal processes the card)
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    COURIER = "courier", _("Paid to the courier")


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Created, waiting for the customer")
    APPROVED = "approved", _("Approved by the customer, not captured yet")
    PENDING = "pending", _("Captured, pending at the gateway")
    COMPLETED = "completed", _("Completed")
    DENIED = "denied", _("Denied")
    FAILED = "failed", _("Failed or expired")
    REVIEW = "review", _("Held for staff review")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


#: Not confirmed yet: the reconciliation looks these up at PayPal (PAY-PAYPAL).
OPEN_STATUSES = frozenset({PaymentStatus.CREATED, PaymentStatus.APPROVED, PaymentStatus.PENDING})
#: Money was taken: these can be refunded.
CAPTURED_STATUSES = frozenset(
    {PaymentStatus.COMPLETED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED, PaymentStatus.REVIEW}
)


class Payment(models.Model):
    Status = PaymentStatus
    Gateway = Gateway

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, verbose_name=_("method"))
    gateway = models.CharField(max_length=20, choices=Gateway.choices, verbose_name=_("gateway"))
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED, verbose_name=_("status")
    )
    # What the customer owes for the order (the order's total when the payment started).
    amount = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("amount")
    )
    # What the gateway (or staff, for bank transfers and payments at the door) says was taken.
    captured_amount = MoneyField(
        max_digits=12,
        decimal_places=2,
        default=0,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("captured amount"),
    )
    # Refunds started or sent from this payment (a failed refund gives its share back).
    refunded_amount = MoneyField(
        max_digits=12,
        decimal_places=2,
        default=0,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("refunded amount"),
    )

    paypal_order_id = models.CharField(_("PayPal order id"), max_length=40, unique=True, null=True, blank=True)
    approve_url = models.URLField(max_length=500, blank=True, verbose_name=_("approve url"))
    capture_id = models.CharField(_("PayPal capture id"), max_length=40, blank=True, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # The moment the confirmation was recorded: the shipping clock starts here (PAY-PAYPAL, SHIP-WITHIN-2BD).
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    # PAY-PAYPAL: an unconfirmed payment is looked up at PayPal once this passes (indexed sweep).
    reconcile_after = models.DateTimeField(null=True, blank=True, verbose_name=_("reconcile after"))
    review_reason = models.CharField(max_length=300, blank=True, verbose_name=_("review reason"))

    # Bank transfer (PAY-PREPAID-FIRST): what staff saw credited on the shop's account.
    credited_on = models.DateField(null=True, blank=True, verbose_name=_("credited on"))
    bank_reference = models.CharField(max_length=100, blank=True, verbose_name=_("bank reference"))
    # Payment at the door (PAY-CARD-AT-DOOR-ID).
    id_document_checked = models.BooleanField(default=False, verbose_name=_("id document checked"))
    card_unnamed = models.BooleanField(default=False, verbose_name=_("card unnamed"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "reconcile_after"], name="payment_reconcile_idx")]
        # Issue #10: moving money is a permission of its own, not "can change orders".
        permissions = [("record_bank_transfer", "Can record the funds of a bank transfer")]
        constraints = [
            # PAY-REFUND-SAME-WAY: the sum of refunds can never exceed what was captured.
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("captured_amount")),
                name="payment_refunded_le_captured",
            ),
            models.CheckConstraint(condition=models.Q(refunded_amount__gte=0), name="payment_refunded_nonneg"),
            models.CheckConstraint(condition=models.Q(captured_amount__gte=0), name="payment_captured_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.amount} — {self.get_status_display()}"

    @property
    def refundable(self):
        return self.captured_amount - self.refunded_amount


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    AWAITING_BANK_DETAILS = "awaiting_bank_details", _("Waiting for the customer's bank account")
    PENDING = "pending", _("Pending (to be transferred / pending at the gateway)")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class RefundWay(models.TextChoices):
    """PAY-REFUND-SAME-WAY: back through PayPal (PayPal and cards) or to a bank account (COD, transfer)."""

    PAYPAL = "paypal", _("PayPal / card refund")
    BANK_ACCOUNT = "bank_account", _("Transfer to the customer's bank account")
    # Card paid to the courier: staff refund it to the card through the acquiring bank's terminal.
    CARD_TERMINAL = "card_terminal", _("Card refund through the acquiring terminal")


class Refund(models.Model):
    Status = RefundStatus
    Way = RefundWay

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    amount = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("amount")
    )
    status = models.CharField(max_length=30, choices=RefundStatus.choices, db_index=True, verbose_name=_("status"))
    way = models.CharField(max_length=20, choices=RefundWay.choices, verbose_name=_("way"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))
    # Makes refund_issue safe to call twice (hooks may run twice); also the PayPal-Request-Id.
    idempotency_key = models.CharField(max_length=120, unique=True, verbose_name=_("idempotency key"))

    gateway_refund_id = models.CharField(_("PayPal refund id"), max_length=40, blank=True, db_index=True)
    # The bank transfer's reference staff recorded, or PayPal's refund id.
    reference = models.CharField(max_length=100, blank=True, verbose_name=_("reference"))
    failure_reason = models.CharField(max_length=300, blank=True, verbose_name=_("failure reason"))

    # The customer's bank account (COD and bank-transfer refunds). The number is encrypted at rest
    # (django-fernet-encrypted-fields, keys from SECRET_KEY and SALT_KEY) and shown masked to staff
    # without payments.view_bank_account (``account_number_masked``).
    account_holder = models.CharField(max_length=200, blank=True, verbose_name=_("account holder"))
    account_number = EncryptedCharField(_("account number or IBAN"), max_length=40, blank=True, null=True)
    bank_bic = models.CharField(_("BIC / SWIFT"), max_length=11, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]
        # Issue #10: each needs a second factor in the admin (shop.admin_site.SECOND_FACTOR_PERMISSIONS).
        permissions = [
            ("issue_refund", "Can issue a refund"),
            ("record_refund_transfer", "Can record a refund transfer as sent"),
            ("view_bank_account", "Can see customers' full bank account numbers"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} ({self.get_status_display()})"

    @property
    def account_number_masked(self) -> str:
        return mask_account(self.account_number or "")


def mask_account(number: str) -> str:
    """Only the last four characters: enough to recognise an account, not to use it."""
    if not number:
        return ""
    return "•" * max(len(number) - 4, 4) + number[-4:]


class WebhookEvent(models.Model):
    """Every PayPal notification received, verified or not; a processed event id is never acted on again.

    Only a verified event keeps its body (``payload``). One that failed verification is kept as its id,
    type, size, SHA-256 and the reason it was refused: forged bodies never fill the database.
    """

    event_id = models.CharField(max_length=64, unique=True, verbose_name=_("event id"))
    type = models.CharField(max_length=80, db_index=True, verbose_name=_("type"))
    resource_id = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("resource id"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    size = models.PositiveIntegerField(_("body size (bytes)"), default=0)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64, blank=True)
    verified = models.BooleanField(default=False, verbose_name=_("verified"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    result = models.CharField(max_length=300, blank=True, verbose_name=_("result"))
    deliveries = models.PositiveIntegerField(default=1, verbose_name=_("deliveries"))

    class Meta:
        verbose_name = _("PayPal webhook event")
        verbose_name_plural = _("PayPal webhook events")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class FraudReviewOrder(Order):
    """PAY-FRAUD-CHECK: the admin's queue of card-paid orders waiting for a staff decision."""

    class Meta:
        verbose_name = _("order in fraud review")
        verbose_name_plural = _("fraud review queue")
        proxy = True


class BankTransferOrder(Order):
    """PAY-PREPAID-FIRST: orders paid by bank transfer still waiting for the funds to be credited."""

    class Meta:
        verbose_name = _("order awaiting a bank transfer")
        verbose_name_plural = _("bank transfers awaiting funds")
        proxy = True


# --- PayPal trackers (SHIP-NOTICES; written when shipping.services.shipments sends a tracked parcel) --
class PayPalTrackerStatus(models.TextChoices):
    PENDING = "pending", _("Pending: to be added at PayPal")
    ADDED = "added", _("Added at PayPal")
    FAILED = "failed", _("Refused by PayPal")


class PayPalTracker(models.Model):
    """What the shop owes PayPal for a tracked parcel of a PayPal-paid order: its tracking number.

    An obligation row (``shop.obligations``): written in the shipment's transaction through the
    ``shipment_tracked`` hook, sent after commit by ``payments.tasks.payments_paypal_tracker_send``
    (Orders v2 ``POST /v2/checkout/orders/{id}/track``), found again by the beat sweep while pending.
    It keeps a copy of what PayPal is told (carrier, number, date, items), so payments needs no
    import of shipping; ``shipment_id`` is the parcel's id (one tracker per parcel).
    """

    Status = PayPalTrackerStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="paypal_trackers", verbose_name=_("order")
    )
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="trackers", verbose_name=_("payment"))
    shipment_id = models.PositiveBigIntegerField(
        unique=True, help_text=_("The parcel (shipping.Shipment) tracked."), verbose_name=_("shipment id")
    )
    carrier = models.CharField(
        max_length=64, help_text=_("PayPal's carrier code (OTHER with a name if unknown)."), verbose_name=_("carrier")
    )
    carrier_name_other = models.CharField(max_length=64, blank=True, verbose_name=_("carrier name other"))
    tracking_number = models.CharField(max_length=64, verbose_name=_("tracking number"))
    shipped_on = models.DateField(verbose_name=_("shipped on"))
    items = models.JSONField(default=list, blank=True, verbose_name=_("items"))
    status = models.CharField(
        max_length=10,
        choices=PayPalTrackerStatus.choices,
        default=PayPalTrackerStatus.PENDING,
        verbose_name=_("status"),
    )
    # The PayPal-Request-Id of every attempt: a retry after a lost answer adds nothing twice.
    request_id = models.CharField(max_length=120, unique=True, verbose_name=_("request id"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))
    paypal_tracker_id = models.CharField(max_length=120, blank=True, verbose_name=_("paypal tracker id"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    added_at = models.DateTimeField(null=True, blank=True, verbose_name=_("added at"))

    class Meta:
        verbose_name = _("PayPal tracker")
        verbose_name_plural = _("PayPal trackers")
        ordering = ["created_at", "pk"]
        indexes = [
            # The sweep's one query: pending rows older than the margin.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status=PayPalTrackerStatus.PENDING),
                name="paypaltracker_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} ({self.get_status_display()})"
