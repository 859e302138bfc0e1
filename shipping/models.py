"""Fulfilment on the business clock (SHIP-*, DLV-*): partners, shipments and what happened to them.

The order's fulfilment status lives on ``orders.Order`` (orders/lifecycle.py); per-line shipped,
delivered and refused quantities on ``orders.OrderLine``. This app keeps the rows that say how:
which partner was told, which parcel carried which lines, and each delivery attempt.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from encrypted_fields.fields import EncryptedCharField

from orders.models import Order
from refunds.models import Case
from shop.storage import private_storage


def partner_endpoint_schemes() -> list[str]:
    """https only; http too where ``settings.SHIP_PARTNER_ALLOW_HTTP`` (development and tests, never with DEBUG off)."""
    return ["https", "http"] if settings.SHIP_PARTNER_ALLOW_HTTP else ["https"]


def validate_partner_endpoint(value: str) -> None:
    """SHIP-SUBCONTRACTOR: order details (address, phone) travel only over HTTPS."""
    # Its own code: a ModelForm replaces an "invalid" message with its generic "Enter a valid URL.".
    message = "Enter an HTTPS address (https://…)."
    URLValidator(schemes=partner_endpoint_schemes(), message=message, code="not_https")(value)


class FulfilmentPartner(models.Model):
    """SHIP-SUBCONTRACTOR: the courier subcontractor told about each order as soon as it is ready."""

    name = models.CharField(max_length=120, verbose_name=_("name"))
    email = models.EmailField(help_text=_("Every ready order's details are e-mailed here."), verbose_name=_("email"))
    endpoint = models.URLField(
        _("HTTPS endpoint"),
        blank=True,
        validators=[validate_partner_endpoint],
        help_text=_("Optional. When set, each ready order is also POSTed here as JSON, signed with the secret."),
    )
    secret = models.CharField(
        max_length=128,
        blank=True,
        help_text=_("Shared secret for the X-Shop-Signature header (HMAC-SHA256)."),
        verbose_name=_("secret"),
    )
    is_default = models.BooleanField(
        default=False, help_text=_("Orders go to the default partner."), verbose_name=_("is default")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("fulfilment partner")
        verbose_name_plural = _("fulfilment partners")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_partner")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # An unsigned POST could be forged by anyone who knows the endpoint: no endpoint without a secret.
        if self.endpoint and not self.secret:
            raise ValidationError({"secret": "Set a secret: every POST to the endpoint is signed with it."})


class ShipmentStatus(models.TextChoices):
    # The allowed moves are in shipping/lifecycle.py (one table).
    SHIPPED = "shipped", _("On its way")
    AWAITING_COLLECTION = "awaiting_collection", _("Waiting at the pick-up point")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Delivery failed")
    NOT_COLLECTED = "not_collected", _("Not collected in time")
    REFUSED = "refused", _("Refused")
    # DLV-LOST: the carrier confirmed the loss, or the shop gave a late parcel up and sent it again (DLV-LATE).
    LOST = "lost", _("Lost in transit")


class Shipment(models.Model):
    """One parcel: its carrier, tracking and the order lines (and quantities) in it (SHIP-NOTICES)."""

    Status = ShipmentStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    method = models.ForeignKey(
        "shop.DeliveryMethod", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("method")
    )
    carrier = models.CharField(max_length=60, blank=True, verbose_name=_("carrier"))
    tracking_number = models.CharField(max_length=60, blank=True, db_index=True, verbose_name=_("tracking number"))
    tracking_url = models.URLField(max_length=500, blank=True, verbose_name=_("tracking url"))
    status = models.CharField(
        max_length=30, choices=ShipmentStatus.choices, default=ShipmentStatus.SHIPPED, verbose_name=_("status")
    )
    shipped_at = models.DateTimeField(default=timezone.now, verbose_name=_("shipped at"))
    # SHIP-NOTICES: the delivery window promised in the shipping notice (business days of the method).
    expected_from = models.DateField(null=True, blank=True, verbose_name=_("expected from"))
    expected_to = models.DateField(null=True, blank=True, verbose_name=_("expected to"))
    # DLV-ACCEPT-14D: set when the parcel waits at a pick-up point.
    collect_by = models.DateTimeField(null=True, blank=True, verbose_name=_("collect by"))
    collect_reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("collect reminded at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    # DLV-LATE: the day the shop opens an investigation itself if the parcel is still on its way
    # (``expected_to`` plus ``Policy.late_parcel_margin_days`` business days), stored and indexed.
    investigate_on = models.DateField(_("investigated by the shop from"), null=True, blank=True)
    # DLV-LOST: the carrier's confirmation of the loss (shipping.services.parcels.parcel_confirm_lost).
    lost_at = models.DateTimeField(_("loss confirmed at"), null=True, blank=True)
    loss_reference = models.CharField(_("carrier's loss confirmation"), max_length=200, blank=True)
    # DLV-LATE / DLV-LOST re-ship: staff asked to send the goods again; the next parcel of the order
    # (packed and shipped as usual) is its re-shipment and points back here.
    reship_requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reship requested at"))
    reshipment_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reshipments",
        help_text=_("The lost or late parcel this one replaces, sent at no charge (DLV-LATE, DLV-LOST)."),
        verbose_name=_("reshipment of"),
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_at", "pk"]
        indexes = [
            models.Index(
                fields=["collect_by"],
                condition=Q(status=ShipmentStatus.AWAITING_COLLECTION),
                name="shipment_collect_by_idx",
            ),
            # DLV-LATE: the periodic task's one query (parcels still on their way past the margin).
            models.Index(
                fields=["investigate_on"],
                condition=Q(status=ShipmentStatus.SHIPPED),
                name="shipment_investigate_on_idx",
            ),
        ]

    def __str__(self) -> str:
        tracking = f" {self.tracking_number}" if self.tracking_number else ""
        return f"Parcel {self.pk} of {self.order_id}{tracking}"


class ShipmentLine(models.Model):
    """How many units of one order line travel in this parcel (OrderLine.quantity_shipped adds them up)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("shipment"))
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipmentline_qty_pos"),
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipmentline_once_per_parcel"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"


# --- SHIP-STOCKOUT: the customer's choice when items are unavailable (shipping/services/stockout.py) ---
class StockoutChoice(models.TextChoices):
    CANCEL_ALL = "cancel_all", _("Cancel the whole order")
    CANCEL_MISSING = "cancel_missing", _("Cancel the unavailable items, send the rest")
    SPLIT = "split", _("Send what is available now, the rest later")


class StockoutVia(models.TextChoices):
    LINK = "link", _("Link in the e-mail")
    PHONE = "phone", _("By phone (recorded by staff)")
    TIMEOUT = "timeout", _("No answer in time")


class StockShortage(models.Model):
    """One short line of one shortage. A shortage is the order's stock-decision hold (``hold``): its
    deadline is the hold's ``due_at``; the choice, when made, is written on every row of the hold."""

    Choice = StockoutChoice
    Via = StockoutVia

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="stock_shortages", verbose_name=_("order")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="stock_shortages", verbose_name=_("order line")
    )
    hold = models.ForeignKey(
        "orders.OrderHold", on_delete=models.PROTECT, related_name="stock_shortages", verbose_name=_("hold")
    )
    quantity_missing = models.PositiveIntegerField(verbose_name=_("quantity missing"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    choice = models.CharField(max_length=20, choices=StockoutChoice.choices, blank=True, verbose_name=_("choice"))
    # SHIP-STOCKOUT split: the date staff promise for the missing part (may be set before the choice).
    new_date = models.DateField(_("missing part ships by"), null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    via = models.CharField(max_length=10, choices=StockoutVia.choices, blank=True, verbose_name=_("via"))

    class Meta:
        verbose_name = _("stock shortage")
        verbose_name_plural = _("stock shortages")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_missing__gte=1), name="stockshortage_qty_pos"),
            models.UniqueConstraint(fields=["hold", "order_line"], name="stockshortage_once_per_hold"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_missing} × {self.order_line.product_name} missing"


# ===============================================================================
# Delivery attempts and handover (DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK, DLV-FAILED, DLV-ACCEPT-14D).
# Written only by shipping/services/delivery.py.
# =============================================================================================
class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Handed over")
    FAILED = "failed", _("Delivery failed")
    AWAITING_COLLECTION = "awaiting_collection", _("Arrived at a pick-up point")


class AttemptSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    PARTNER = "partner", _("Courier partner (callback)")


class FailureCause(models.TextChoices):
    """DLV-FAILED: why a delivery failed. ``BEYOND_SHOP_CONTROL`` says which count for PAY-COD-RESTRICT (b)."""

    CUSTOMER_ABSENT = "customer_absent", _("Customer absent")
    REFUSED_PARCEL = "refused_parcel", _("Customer refused the parcel")
    WRONG_ADDRESS = "wrong_address", _("Wrong or incomplete address")
    CUSTOMER_UNREACHABLE = "customer_unreachable", _("Customer not reachable by phone")
    CARRIER_FAULT = "carrier_fault", _("Carrier's fault")
    DAMAGED_IN_TRANSIT = "damaged_in_transit", _("Damaged in transit")


#: PAY-COD-RESTRICT (b), SHIP-ADDRESS-CHANGE ("a wrong or incomplete address is the customer's risk"):
#: failures on the customer's side. A carrier's fault or damage in transit is the shop's side.
BEYOND_SHOP_CONTROL = frozenset(
    {
        FailureCause.CUSTOMER_ABSENT,
        FailureCause.REFUSED_PARCEL,
        FailureCause.WRONG_ADDRESS,
        FailureCause.CUSTOMER_UNREACHABLE,
    }
)


class RecipientKind(models.TextChoices):
    """DLV-HANDOVER: who received the parcel."""

    CUSTOMER = "customer", _("The customer")
    NAMED_RECIPIENT = "named_recipient", _("The named recipient")
    # Cash orders only: a person who gave the order number and the recipient's name and paid in full.
    ORDER_NUMBER_HOLDER = "order_number_holder", _("A person with the order number (cash order, paid in full)")


class IdDocumentType(models.TextChoices):
    """DLV-ID-CHECK: the document the recipient of a prepaid order showed."""

    PASSPORT = "passport", _("Passport")
    FOREIGN_PASSPORT = "foreign_passport", _("International passport")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    OTHER = "other", _("Other identity document")


def mask_document_number(number: str) -> str:
    """DLV-ID-CHECK: what staff without the permission see: the last 4 characters only."""
    number = (number or "").strip()
    if not number:
        return ""
    return "•••• " + number[-4:] if len(number) > 4 else "••••"


class DeliveryAttempt(models.Model):
    """One delivery attempt of a parcel, as the courier (partner callback) or staff recorded it."""

    Outcome = DeliveryOutcome
    Source = AttemptSource

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("shipment")
    )
    # The parcel's order, kept here so the order's page and history read attempts with one query.
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="delivery_attempts", verbose_name=_("order")
    )
    outcome = models.CharField(max_length=30, choices=DeliveryOutcome.choices, verbose_name=_("outcome"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    source = models.CharField(
        max_length=20, choices=AttemptSource.choices, default=AttemptSource.STAFF, verbose_name=_("source")
    )
    partner = models.ForeignKey(
        FulfilmentPartner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delivery_attempts",
        verbose_name=_("partner"),
    )
    # Idempotency: a partner's callback carries its event id ("partner:<pk>:<event id>").
    key = models.CharField(max_length=160, unique=True, null=True, blank=True, verbose_name=_("key"))
    # DLV-FAILED
    cause = models.CharField(max_length=30, choices=FailureCause.choices, blank=True, verbose_name=_("cause"))
    beyond_shop_control = models.BooleanField(null=True, blank=True, verbose_name=_("beyond shop control"))
    # DLV-HANDOVER
    recipient_kind = models.CharField(
        max_length=30, choices=RecipientKind.choices, blank=True, verbose_name=_("recipient kind")
    )
    recipient_name = models.CharField(max_length=200, blank=True, verbose_name=_("recipient name"))
    # DLV-ID-CHECK: encrypted at rest; shown masked unless staff hold shipping.view_id_document.
    id_document_type = models.CharField(
        max_length=30, choices=IdDocumentType.choices, blank=True, verbose_name=_("id document type")
    )
    # Empty is NULL (the library stores no ciphertext for ""); stored as text, so the ciphertext has room.
    id_document_number = EncryptedCharField(max_length=64, blank=True, null=True, verbose_name=_("id document number"))
    # DLV-ACCEPT-14D: where the parcel waits.
    pickup_point = models.CharField(max_length=300, blank=True, verbose_name=_("pickup point"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "pk"]
        permissions = [("view_id_document", "Can see identity document numbers in full (DLV-ID-CHECK)")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome=DeliveryOutcome.FAILED) | ~Q(cause=""), name="deliveryattempt_failed_has_cause"
            ),
            models.CheckConstraint(
                condition=~Q(outcome=DeliveryOutcome.DELIVERED) | ~Q(recipient_kind=""),
                name="deliveryattempt_delivered_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.shipment_id})"

    @property
    def id_document_masked(self) -> str:
        return mask_document_number(self.id_document_number or "")


class RefusedItem(models.Model):
    """DLV-INSPECT: units of one order line the recipient refused at handover, and their value."""

    attempt = models.ForeignKey(
        DeliveryAttempt, on_delete=models.CASCADE, related_name="refused_items", verbose_name=_("attempt")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="refused_items", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    value = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("value")
    )

    class Meta:
        verbose_name = _("refused item")
        verbose_name_plural = _("refused items")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="refuseditem_qty_pos"),
            models.UniqueConstraint(fields=["attempt", "order_line"], name="refuseditem_once_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name} refused ({self.value})"


# --- REF-SHORT-DELIVERY: the Act of Discrepancy drawn up at a handover ------------------------------
ACT_SCAN_MAX_BYTES = 10 * 1024 * 1024
ACT_SCAN_TYPES = {".pdf": b"%PDF-", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}


def validate_act_scan(upload) -> None:
    """REF-SHORT-DELIVERY: the signed act's scan is a PDF, PNG or JPEG (by its content, not only its
    name) of at most 10 MB."""
    import os

    if upload.size > ACT_SCAN_MAX_BYTES:
        raise ValidationError(_("The scan is larger than 10 MB; scan at a lower resolution."), code="too_large")
    ext = os.path.splitext(upload.name or "")[1].lower()
    magic = ACT_SCAN_TYPES.get(ext)
    if magic is None:
        raise ValidationError(_("Upload the scan as a PDF, PNG or JPEG file."), code="bad_type")
    upload.seek(0)
    head = upload.read(len(magic))
    upload.seek(0)
    if head != magic:
        raise ValidationError(f"This file is not a {ext[1:].upper()} file.", code="bad_type")


def act_scan_path(act: ActOfDiscrepancy, filename: str) -> str:
    import os

    return f"acts/{act.order_id}/act-{act.pk}-signed{os.path.splitext(filename)[1].lower()}"


class ActOfDiscrepancy(models.Model):
    """REF-SHORT-DELIVERY: what the parcel should have held against what was handed over, per line,
    signed at the handover by the recipient and the courier (the PDF is printed, the signed scan uploaded)."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="discrepancy_acts", verbose_name=_("order")
    )
    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="discrepancy_acts", verbose_name=_("shipment")
    )
    attempt = models.OneToOneField(
        DeliveryAttempt,
        on_delete=models.PROTECT,
        related_name="discrepancy_act",
        help_text=_("The handover."),
        verbose_name=_("attempt"),
    )
    place = models.CharField(max_length=300, help_text=_("Where the parcel was handed over."), verbose_name=_("place"))
    note = models.TextField(
        blank=True, help_text=_("Wrong items received, the state of the packaging, …"), verbose_name=_("note")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    scan = models.FileField(
        _("signed scan"),
        upload_to=act_scan_path,
        storage=private_storage,
        blank=True,
        validators=[validate_act_scan],
        max_length=200,
    )
    scan_uploaded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("scan uploaded at"))
    scan_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("scan uploaded by"),
    )

    class Meta:
        verbose_name = _("act of discrepancy")
        verbose_name_plural = _("acts of discrepancy")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Act of Discrepancy {self.pk} (parcel {self.shipment_id})"

    @property
    def number(self) -> str:
        return f"AD-{self.pk:06d}"


class ActLine(models.Model):
    """One line of an act: units the parcel should have held and units handed over (wrong items count 0)."""

    act = models.ForeignKey(ActOfDiscrepancy, on_delete=models.CASCADE, related_name="lines", verbose_name=_("act"))
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="+", verbose_name=_("order line")
    )
    quantity_expected = models.PositiveIntegerField(_("in the parcel"))
    quantity_handed_over = models.PositiveIntegerField(_("handed over"))

    class Meta:
        verbose_name = _("act line")
        verbose_name_plural = _("act lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["act", "order_line"], name="actline_once_per_act"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line.product_name}: {self.quantity_handed_over} of {self.quantity_expected}"

    @property
    def quantity_missing(self) -> int:
        return max(self.quantity_expected - self.quantity_handed_over, 0)


class ShortDeliveryClaim(Case):
    """REF-SHORT-DELIVERY: the short-delivery cases, as the fulfilment desk sees them: flagged when no act
    was drawn up, and declinable for that reason (shipping/admin.py)."""

    class Meta:
        verbose_name = _("short-delivery claim")
        verbose_name_plural = _("short-delivery claims (acts)")
        proxy = True


# --- The staff work queue and the ship-by digest (SHIP-BUSINESS-HOURS, SHIP-WITHIN-2BD) ---------
class WorkQueueOrder(Order):
    """SHIP-BUSINESS-HOURS: the admin's work queue, orders to pack and ship sorted by ship-by."""

    class Meta:
        verbose_name = _("order to fulfil")
        verbose_name_plural = _("work queue")
        proxy = True


class ShipByState(models.TextChoices):
    """Where an open order stands against its ship-by moment (shipping.services.queue.QueueClock.state_of)."""

    ON_TRACK = "on_track", _("On track")
    DUE_TODAY = "due_today", _("Due today")
    AT_RISK = "at_risk", _("At risk")
    OVERDUE = "overdue", _("Overdue")


class ShipByAlert(models.Model):
    """SHIP-WITHIN-2BD: the staff digest announced this order in this state (at most once each)."""

    State = ShipByState

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="ship_by_alerts", verbose_name=_("order")
    )
    state = models.CharField(max_length=20, choices=ShipByState.choices, verbose_name=_("state"))
    # The ship-by moment the alert was about (a re-shipped order may get a new one).
    ship_by = models.DateTimeField(verbose_name=_("ship by"))
    sent_at = models.DateTimeField(default=timezone.now, verbose_name=_("sent at"))
    email = models.ForeignKey(
        "shop.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("email")
    )

    class Meta:
        verbose_name = _("ship-by alert")
        verbose_name_plural = _("ship-by alerts")
        ordering = ["-sent_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["order", "state"], name="shipbyalert_once_per_state")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_state_display()}"


# --- SHIP-SUBCONTRACTOR: the notice owed to the partner's endpoint ----------------------------------
# Written in the transaction that makes the order ready (shipping.services.partners.partner_notify),
# POSTed after commit by shipping.tasks.partner_notice_send, found again by the sweep while pending.


class PartnerNoticeStatus(models.TextChoices):
    PENDING = "pending", _("Not answered yet")
    DELIVERED = "delivered", _("Delivered (partner answered 2xx)")


class PartnerNotice(models.Model):
    """One ready order owed to one partner's endpoint; the payload is frozen when the order became ready."""

    Status = PartnerNoticeStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="partner_notices", verbose_name=_("order")
    )
    partner = models.ForeignKey(
        FulfilmentPartner, on_delete=models.PROTECT, related_name="notices", verbose_name=_("partner")
    )
    # Sent as the Idempotency-Key header on every try: the partner processes each key once.
    idempotency_key = models.CharField(max_length=120, unique=True, verbose_name=_("idempotency key"))
    payload = models.JSONField(
        help_text=_("The JSON body sent, exactly as it was when the order became ready."), verbose_name=_("payload")
    )
    status = models.CharField(
        max_length=10,
        choices=PartnerNoticeStatus.choices,
        default=PartnerNoticeStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("partner notice")
        verbose_name_plural = _("partner notices")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweep's one query: pending notices older than the margin.
            models.Index(
                fields=["created_at"],
                condition=Q(status=PartnerNoticeStatus.PENDING),
                name="partnernotice_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Notice {self.idempotency_key} ({self.get_status_display()})"


class PartnerNoticeAttempt(models.Model):
    """One POST of a notice: when, what the partner answered (or the network error), how long it took."""

    notice = models.ForeignKey(
        PartnerNotice, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("notice")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(blank=True, verbose_name=_("error"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("partner notice attempt")
        verbose_name_plural = _("partner notice attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        outcome = f"HTTP {self.http_status}" if self.http_status else "no answer"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {outcome}"
