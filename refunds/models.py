"""After-sale cases: one model for everything the shop owes back (REF-*, and the refund of every
cancellation, refusal and lost or uncollected parcel).

A :class:`Case` is the customer's (or the system's) claim on an order: its kind, the lines and units
concerned (:class:`CaseLine`, which also counts the goods that came back), the customer's statement
and photos, a status moved only through ``refunds.lifecycle`` (one table), the remedy, and the date
the refund is due, computed from its rule and stored (REF-SLA). Money moves through
``payments.services.refund_issue`` (PAY-REFUND-SAME-WAY); the refunds it started are ``Case.refunds``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from shop.storage import private_storage


class CaseKind(models.TextChoices):
    WITHDRAWAL = "withdrawal", _("Withdrawal")  # REF-WITHDRAW-30D
    DEFECT = "defect", _("Defect")  # REF-DEFECT
    WRONG_ITEM = "wrong_item", _("Wrong items")  # REF-WRONG-ITEM
    SHORT_DELIVERY = "short_delivery", _("Missing items")  # REF-SHORT-DELIVERY
    LATE_PARCEL = "late_parcel", _("Parcel late")  # DLV-LATE
    LOST_PARCEL = "lost_parcel", _("Parcel lost")  # DLV-LOST
    NOT_COLLECTED = "not_collected", _("Not collected in time")  # DLV-ACCEPT-14D
    REFUSED_AT_DOOR = "refused_at_door", _("Refused at delivery")  # DLV-INSPECT
    STOCKOUT_CANCEL = "stockout_cancel", _("Unavailable items cancelled")  # SHIP-STOCKOUT
    PRICE_ERROR = "price_error", _("Price corrected or declined")  # ORD-PRICE-ERROR
    STAFF_CANCEL = "staff_cancel", _("Cancelled by the shop")  # ORD-REFUSE
    FRAUD_CANCEL = "fraud_cancel", _("Card payment rejected")  # PAY-FRAUD-CHECK


#: Kinds the customer opens from the order page (the others are opened by staff or the system).
CUSTOMER_KINDS = frozenset({CaseKind.WITHDRAWAL, CaseKind.DEFECT, CaseKind.WRONG_ITEM, CaseKind.SHORT_DELIVERY})


class CaseStatus(models.TextChoices):
    """Allowed moves: ``refunds.lifecycle.CASE_TRANSITIONS``."""

    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    RESOLVED = "resolved", _("Resolved")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


#: Still needs someone: the refund desk lists these.
OPEN_STATUSES = (CaseStatus.REQUESTED, CaseStatus.ACCEPTED)


class CaseRemedy(models.TextChoices):
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    REPAIR = "repair", _("Repair")
    RESHIP = "reship", _("Re-ship at no charge")


#: REF-*: photos are images only, at most this many bytes each.
PHOTO_MAX_BYTES = 5 * 1024 * 1024


def validate_photo_size(image) -> None:
    if image.size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("A photo may be at most %(mb)s MB."),
            code="photo_too_big",
            params={"mb": PHOTO_MAX_BYTES // (1024 * 1024)},
        )


class Case(models.Model):
    Kind = CaseKind
    Status = CaseStatus
    Remedy = CaseRemedy

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="cases", verbose_name=_("order"))
    kind = models.CharField(max_length=20, choices=CaseKind.choices, db_index=True, verbose_name=_("kind"))
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.REQUESTED, verbose_name=_("status")
    )
    remedy = models.CharField(max_length=20, choices=CaseRemedy.choices, blank=True, verbose_name=_("remedy"))
    statement = models.TextField(_("customer's statement"), blank=True)
    shipment = models.ForeignKey(
        "shipping.Shipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("shipment"),
    )
    # What the refund is worth when the remedy is a refund (the lines' value, or what a cancellation
    # leaves to give back). None: not known yet (a late parcel under investigation).
    amount = MoneyField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("amount"),
    )
    # REF-SLA: computed from the case's rule (refunds.rules) and stored; the desk reads it by index.
    refund_due_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("refund due at"))
    # REF-DEFECT, REF-WITHDRAW-30D: the shop recorded the goods as received (starts the defect clock).
    goods_received_at = models.DateTimeField(null=True, blank=True, verbose_name=_("goods received at"))
    # REF-WRONG-ITEM: the customer keeps the wrong goods; staff charge them at the site price.
    keeps_wrong_goods = models.BooleanField(default=False, verbose_name=_("keeps wrong goods"))
    kept_goods_charge = MoneyField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default_currency=settings.DEFAULT_CURRENCY,
        verbose_name=_("kept goods charge"),
    )
    decline_reason = models.TextField(blank=True, verbose_name=_("decline reason"))
    resolution_note = models.TextField(blank=True, verbose_name=_("resolution note"))
    replacement_order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces_cases",
        verbose_name=_("replacement order"),
    )
    # PAY-REFUND-SAME-WAY: the refunds this case started (refunds.services.case_refund).
    refunds = models.ManyToManyField("payments.Refund", blank=True, related_name="cases", verbose_name=_("refunds"))
    # Idempotency: one case per key ("cancel:<order>", "stockout-<hold>", a form's token, ...).
    key = models.CharField(max_length=120, unique=True, null=True, blank=True, verbose_name=_("key"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The refund desk: open cases by due date (a partial index: closed cases are most of them).
            models.Index(
                fields=["refund_due_at"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="case_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def customer_may_take_back(self) -> bool:
        """A claim the customer opened that staff have not decided yet (a withdrawal is decided at once)."""
        return self.status == CaseStatus.REQUESTED and self.kind in CUSTOMER_KINDS - {CaseKind.WITHDRAWAL}


class CaseLine(models.Model):
    """The units of one order line a case is about, and (for goods coming back) what arrived.

    requested ≥ received ≥ damaged; what arrived ends restocked or written off (CHECK constraints).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lines", verbose_name=_("case"))
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="case_lines", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("requested"))
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    quantity_damaged = models.PositiveIntegerField(_("damaged"), default=0)
    quantity_restocked = models.PositiveIntegerField(_("restocked"), default=0)
    quantity_written_off = models.PositiveIntegerField(_("written off"), default=0)

    class Meta:
        verbose_name = _("case line")
        verbose_name_plural = _("case lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="caseline_qty_pos"),
            models.CheckConstraint(
                condition=models.Q(quantity_received__lte=models.F("quantity")), name="caseline_received_le_requested"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_damaged__lte=models.F("quantity_received")),
                name="caseline_damaged_le_received",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    quantity_restocked__lte=models.F("quantity_received") - models.F("quantity_written_off")
                ),
                name="caseline_settled_le_received",
            ),
            models.UniqueConstraint(fields=["case", "order_line"], name="caseline_one_per_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"

    @property
    def quantity_unsettled(self) -> int:
        """Arrived, neither restocked nor written off yet."""
        return self.quantity_received - self.quantity_restocked - self.quantity_written_off


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos", verbose_name=_("case"))
    # Pillow checks it is an image (ImageField); the size is capped. Private storage: no public URL.
    image = models.ImageField(
        upload_to="cases/%Y/%m/", storage=private_storage, validators=[validate_photo_size], verbose_name=_("image")
    )
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded at"))

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.image.name
