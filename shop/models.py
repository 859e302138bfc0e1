"""Catalogue, cart, the store Policy, closures, delivery territory and methods, and the outbox."""

from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from phonenumber_field.modelfields import PhoneNumberField


def digits(low: int, high: int | None = None) -> RegexValidator:
    """A validator for Russian registration and bank numbers: only digits, ``low`` (or ``low``/``high``) of them."""
    counts = f"{low}" if high is None else f"{low},{high}"
    what = f"{low}" if high is None else f"{low} to {high}"
    return RegexValidator(rf"^\d{{{counts}}}$", f"Only digits, {what} of them.")


class PaymentMethod(models.TextChoices):
    """PAY-METHODS-PER-PRODUCT: the methods a product may allow."""

    PAYPAL = "paypal", _("PayPal")
    CARD_ONLINE = "card_online", _("Bank card online")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH_COURIER = "cash_courier", _("Cash to the courier")
    CARD_COURIER = "card_courier", _("Card to the courier")


#: Paid at the door (PAY-PREPAY-THRESHOLD and PAY-COD-RESTRICT withdraw these).
ON_DELIVERY_METHODS = frozenset({PaymentMethod.CASH_COURIER, PaymentMethod.CARD_COURIER})
#: Paid before processing (PAY-PREPAID-FIRST).
PREPAID_METHODS = frozenset({PaymentMethod.PAYPAL, PaymentMethod.CARD_ONLINE, PaymentMethod.BANK_TRANSFER})
#: Paid online right after confirming, through PayPal (which processes the cards too).
ONLINE_METHODS = frozenset({PaymentMethod.PAYPAL, PaymentMethod.CARD_ONLINE})


def all_payment_methods() -> list[str]:
    return [m.value for m in PaymentMethod]


#: Issue #14: the Policy row read in this request (a dict while a request runs, else None).
_policy_memo: ContextVar[dict | None] = ContextVar("policy_memo", default=None)


def policy_memo_start(**_kwargs) -> None:
    """``request_started``: Policy.load() reads the row at most once in this request."""
    _policy_memo.set({})


def policy_memo_end(**_kwargs) -> None:
    """``request_finished``: the next request (and any code outside a request) reads it afresh."""
    _policy_memo.set(None)


@contextmanager
def policy_memoized():
    """A periodic sweep reads the Policy row (and the closures: ``shop.calendar``) once, as a request
    does (issue #14: a batch of 500 orders must not read them per order). Inside a request: the
    request's memo is used as it is."""
    if _policy_memo.get() is not None:
        yield
        return
    token = _policy_memo.set({})
    try:
        yield
    finally:
        _policy_memo.reset(token)


def policy_is_memoized(policy) -> bool:
    """``policy`` is the row ``Policy.load()`` read for this request or ``policy_memoized`` block."""
    memo = _policy_memo.get()
    return memo is not None and memo.get("policy") is policy


def policy_memo_get(key: str, load):
    """``load()`` once per request or ``policy_memoized`` block (every call outside one)."""
    memo = _policy_memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


class Policy(models.Model):
    """Every number in policy.md, editable by the shop owner. Code reads them only from here.

    A singleton (pk=1); use ``Policy.load()``.
    """

    shop_name = models.CharField(
        _("shop name"), max_length=120, default="Rusoptics", help_text=_("Shown in page titles, e-mails and invoices.")
    )
    legal_name = models.CharField(
        _("legal name"),
        max_length=200,
        default="Alatyr Ltd",
        help_text=_("The company that sells, as it stands on invoices and in the footer of pages and e-mails."),
    )
    shop_email = models.EmailField(
        _("contact e-mail"),
        default="shop@example.com",
        help_text=_("Where customers are told to write: page footer, every e-mail, invoices."),
    )
    shop_phone = models.CharField(
        _("contact phone"),
        max_length=40,
        default="+7 495 000-00-00",
        help_text=_("Shown next to the contact e-mail: page footer, every e-mail, invoices."),
    )
    shop_address = models.TextField(
        _("postal address"),
        default="1 Optics street, Moscow, 101000, Russia",
        help_text=_("Shown in the page footer and e-mails, and as the seller's address on invoices."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="RUB",
        help_text=_(
            "Shown for an empty cart only. Every product's price carries its own currency (set on the "
            "product), so changing this would convert nothing; it cannot be edited here."
        ),
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        default="RU",
        help_text=_(
            "Two-letter code, e.g. RU. Its public holidays are not business days: no orders are processed "
            "and deadlines counted in business days skip them."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Moscow",
        help_text=_(
            "The shop's clock, e.g. Europe/Moscow: business hours are in this time zone, and customers see "
            "deadlines with its name."
        ),
    )
    business_hours_start = models.TimeField(
        _("business hours start"),
        default="09:00",
        help_text=_(
            "On business days orders are processed from this time. Something that happens outside business "
            "hours (a payment at night) starts its deadlines at the next opening."
        ),
    )
    business_hours_end = models.TimeField(
        _("business hours end"), default="15:00", help_text=_("On business days orders are processed until this time.")
    )

    # ORD-PRICE-ERROR
    price_error_answer_days = models.PositiveSmallIntegerField(
        _("days to answer a price correction"),
        default=3,
        help_text=_(
            "When staff correct a wrong price on a confirmed order, the customer has this many days "
            "(calendar days) to accept the new price or cancel; with no answer the order is cancelled and any "
            "payment refunded."
        ),
    )
    # PAY-PREPAY-THRESHOLD
    prepay_threshold_amount = models.DecimalField(
        _("prepayment required from (amount)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("60000"),
        help_text=_(
            "Orders worth this much or more, delivery included, must be paid in advance: cash or card to "
            "the courier is not offered."
        ),
    )
    prepay_threshold_items = models.PositiveSmallIntegerField(
        _("prepayment required from (items)"),
        default=6,
        help_text=_(
            "Orders of this many items or more must be paid in advance: cash or card to the courier is not offered."
        ),
    )
    # PAY-COD-RESTRICT
    cod_restrict_orders = models.PositiveSmallIntegerField(
        _("orders looked at for refusals"),
        default=3,
        help_text=_(
            "Pay on delivery is withdrawn from a customer when, in their last this many orders that went out "
            "for delivery, more than the share below was refused at the door. 0 turns this check off."
        ),
    )
    cod_refused_share = models.DecimalField(
        _("refused share that withdraws pay on delivery"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
        help_text=_(
            "Pay on delivery is withdrawn when, in the customer's last orders (the number above), more than "
            "this share of their value was refused at the door (0.5 = half)."
        ),
    )
    cod_failed_deliveries = models.PositiveSmallIntegerField(
        _("failed deliveries that withdraw pay on delivery"),
        default=3,
        help_text=_(
            "Pay on delivery is withdrawn when this many deliveries in a row to the customer failed for "
            "reasons beyond the shop's control (nobody at home, wrong address, …). 0 turns this check off."
        ),
    )
    # PAY-PAYPAL
    paypal_reconcile_hours = models.PositiveSmallIntegerField(
        _("look up unconfirmed PayPal payments after (hours)"),
        default=24,
        help_text=_(
            "A PayPal payment still not confirmed this many hours after the customer started it is looked up "
            "at PayPal and the order updated; one the customer never completed is marked failed."
        ),
    )
    # SHIP-PROCESSING-TIME, SHIP-WITHIN-2BD
    processing_days_min = models.PositiveSmallIntegerField(
        _("processing time, at least (business days)"),
        default=1,
        help_text=_(
            "Customers are told processing takes between this and the number below business days, counted "
            "from payment (from the order, for pay on delivery)."
        ),
    )
    processing_days_max = models.PositiveSmallIntegerField(
        _("processing time, at most (business days)"),
        default=3,
        help_text=_("The longest processing time promised; the delivery window shown to customers starts after it."),
    )
    ship_within_days = models.PositiveSmallIntegerField(
        _("ship within (business days)"),
        default=2,
        help_text=_(
            "Each order gets a ship-by date this many business days after payment (after the order, for pay "
            "on delivery)."
        ),
    )
    # SHIP-WITHIN-2BD: the work queue's "at risk" mark and the staff digest.
    at_risk_share_of_day = models.DecimalField(
        _("at risk when less than (share of a business day) is left"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        help_text=_(
            "An order is marked at risk in the work queue, and listed in the staff digest, when less than "
            "this share of a business day is left before its ship-by time (0.5 = half a day)."
        ),
    )
    staff_email = models.EmailField(
        _("staff alerts go to"),
        default="warehouse@example.com",
        help_text=_("The warehouse's address: the digest of orders at risk or overdue, sent during business hours."),
    )
    # SHIP-ADDRESS-CHANGE
    redelivery_fee = models.DecimalField(
        _("address change or re-delivery fee"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("500.00"),
        help_text=_(
            "Added to what the customer owes when the address changes after dispatch, or a failed delivery "
            "is tried again."
        ),
    )
    # SHIP-STOCKOUT
    stockout_answer_days = models.PositiveSmallIntegerField(
        _("time to choose when an item is out of stock (business days)"),
        default=3,
        help_text=_(
            "A customer told that an item is unavailable may choose within this many business days; with "
            "no answer the missing part is cancelled and refunded."
        ),
    )
    # Issue #10: links in e-mails that act (order, refund account, price answer, stock choice, …)
    link_valid_days = models.PositiveSmallIntegerField(
        _("links in e-mails are valid for (days)"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A link in an e-mail that opens an order or asks the customer something (a bank account for a "
            "refund, an answer to a corrected price) stops working this many days after the e-mail was sent. "
            "Registered customers can always find their orders under My orders."
        ),
    )
    # DLV-ACCEPT-14D
    accept_within_days = models.PositiveSmallIntegerField(
        _("days to collect a parcel at a pick-up point"),
        default=14,
        help_text=_(
            "A paid parcel waiting at a pick-up point must be collected within this many days; after that it "
            "counts as refused and is refunded less the delivery cost."
        ),
    )
    collect_reminder_days = models.PositiveSmallIntegerField(
        _("remind this many days before the collection deadline"),
        default=3,
        help_text=_("The customer is e-mailed this many days before a parcel waiting for them must be collected."),
    )
    # The seller's legal details and VAT, printed on every invoice (issue #12).
    seller_inn = models.CharField(
        _("seller's INN"),
        max_length=12,
        default="7701234567",
        validators=[digits(10, 12)],
        help_text=_(
            "The seller's taxpayer number (10 digits for a company, 12 for a sole trader), on invoices "
            "and in the payment QR code."
        ),
    )
    seller_kpp = models.CharField(
        _("seller's KPP"),
        max_length=9,
        blank=True,
        default="770101001",
        validators=[digits(9)],
        help_text=_("The seller's tax registration reason code (9 digits); empty for a sole trader."),
    )
    seller_ogrn = models.CharField(
        _("seller's OGRN"),
        max_length=15,
        default="1207700123456",
        validators=[digits(13, 15)],
        help_text=_("The state registration number (OGRN, or OGRNIP for a sole trader)."),
    )
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "The VAT included in the prices, in percent. Leave empty when VAT is not charged and give the reason below."
        ),
    )
    vat_exempt_reason = models.CharField(
        _("why VAT is not charged"),
        max_length=200,
        blank=True,
        default="simplified tax system, art. 346.11 of the Tax Code of the Russian Federation",
        help_text=_("Printed on invoices after “VAT not charged” when no VAT rate is set."),
    )
    # Where a bank-transfer customer sends the money: the order page, the acknowledgement, the invoice
    # and the payment QR code (GOST R 56042-2014) show these.
    bank_recipient = models.CharField(
        _("recipient"),
        max_length=160,
        default="ООО «Алатырь»",
        help_text=_("The account holder's name exactly as the bank knows it."),
    )
    bank_account = models.CharField(
        _("settlement account"),
        max_length=20,
        default="40702810900000012345",
        validators=[digits(20)],
        help_text=_("The 20-digit account the customer transfers the money to."),
    )
    bank_name = models.CharField(
        _("bank"),
        max_length=160,
        default="ПАО Сбербанк",
        help_text=_("The bank that holds the account, as the customer's bank will look it up."),
    )
    bank_bic = models.CharField(
        _("BIC"), max_length=9, default="044525225", validators=[digits(9)], help_text=_("The bank's 9-digit BIC.")
    )
    bank_correspondent_account = models.CharField(
        _("correspondent account"),
        max_length=20,
        default="30101810400000000225",
        validators=[digits(20)],
        help_text=_("The bank's 20-digit correspondent account."),
    )
    # DLV-LATE
    late_parcel_margin_days = models.PositiveSmallIntegerField(
        _("open a late-parcel investigation this many business days after the expected window"),
        default=2,
        help_text=_(
            "A customer may report a parcel as not arrived the day after its expected delivery window ends. "
            "If nobody has, the shop opens the investigation itself this many business days after the window."
        ),
    )
    # PAY-DISCOUNTS: the bonus programme (1 point = 1 unit of the prices' currency).
    bonus_earn_percent = models.DecimalField(
        # xgettext:no-python-format
        _("bonus points earned (% of the goods)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "A registered customer earns this share of what they paid for the goods as points when the order "
            "is completed (whole points, rounded down). Taken back in proportion if the order is refunded. 0 turns "
            "earning off."
        ),
    )
    bonus_spend_max_percent = models.DecimalField(
        # xgettext:no-python-format
        _("points may pay at most (% of the goods)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("30"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "At checkout a customer may spend points (1 point = 1 unit of currency) for up to this share of "
            "the goods after discounts. Points spent come back if the order is cancelled."
        ),
    )
    # REF-WITHDRAW-30D (calendar days, as the rule says; refunds/rules.py)
    withdraw_days = models.PositiveSmallIntegerField(
        _("days to withdraw from a purchase"),
        default=30,
        help_text=_(
            "A customer may withdraw from an order until the end of this many calendar days after placing "
            "it; the order page says the date."
        ),
    )
    withdraw_refund_days = models.PositiveSmallIntegerField(
        _("withdrawal refund due within (days)"),
        default=3,
        help_text=_(
            "What was paid is refunded at once and no later than this many calendar days after the customer withdrew."
        ),
    )
    # REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY
    default_warranty_months = models.PositiveSmallIntegerField(
        _("default warranty (months)"),
        default=24,
        help_text=_(
            "The page of a product with no warranty of its own says defects may be claimed within this many months."
        ),
    )
    defect_refund_days = models.PositiveSmallIntegerField(
        _("defect refund due within (days)"),
        default=10,
        help_text=_("A refund for a defect is due this many calendar days after the shop records receiving the goods."),
    )
    wrong_item_refund_days = models.PositiveSmallIntegerField(
        _("wrong items refund due within (days)"),
        default=10,
        help_text=_("A refund for wrong items is due this many calendar days after the customer's claim."),
    )
    short_delivery_refund_days = models.PositiveSmallIntegerField(
        _("missing items refund due within (days)"),
        default=10,
        help_text=_("A refund for missing items is due this many calendar days after the customer's claim."),
    )

    class Meta:
        verbose_name = _("store policy")
        verbose_name_plural = _("store policy")

    def __str__(self) -> str:
        return f"Store policy of {self.shop_name}"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        memo = _policy_memo.get()
        if memo is not None:
            memo["policy"] = self
            memo.pop("calendar", None)  # built from the old hours and country

    def clean(self):
        if self.vat_rate is None and not self.vat_exempt_reason.strip():
            raise ValidationError({"vat_exempt_reason": "Give the reason VAT is not charged, or set a VAT rate."})

    @classmethod
    def load(cls) -> "Policy":
        """The policy; within a request the row is read once (issue #14: pages read it up to three times)."""
        memo = _policy_memo.get()
        if memo is not None and "policy" in memo:
            return memo["policy"]
        obj, _ = cls.objects.get_or_create(pk=1)
        if memo is not None:
            memo["policy"] = obj
        return obj


class Closure(models.Model):
    """A date the shop is closed besides weekends and public holidays (stocktaking, …)."""

    date = models.DateField(unique=True, verbose_name=_("date"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _closures_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _closures_changed()
        return result


def _closures_changed() -> None:
    """The request's memo of the closures (``BusinessCalendar.current``) is read again after a change."""
    memo = _policy_memo.get()
    if memo is not None:
        memo.pop("closures", None)
        memo.pop("calendar", None)


class Category(models.Model):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(max_length=140, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Product(models.Model):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=220, unique=True, verbose_name=_("slug"))
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    description = models.TextField(blank=True, verbose_name=_("description"))
    price = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("price")
    )
    stock = models.PositiveIntegerField(default=0, verbose_name=_("stock"))
    is_active = models.BooleanField(default=True, db_index=True, verbose_name=_("is active"))
    warranty_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Empty: no warranty set (REF-DEFECT then uses the policy's default)."),
        verbose_name=_("warranty months"),
    )
    # PAY-METHODS-PER-PRODUCT: a list of PaymentMethod values.
    payment_methods = models.JSONField(default=all_payment_methods, verbose_name=_("payment methods"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["category", "is_active"]),
            # The catalogue's sort orders (shop.filters.SORTS) over active products.
            models.Index(fields=["is_active", "price", "id"], name="shop_product_by_price"),
            models.Index(fields=["is_active", "name", "id"], name="shop_product_by_name"),
            models.Index(fields=["is_active", "-created_at", "-id"], name="shop_product_newest"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product_detail", kwargs={"slug": self.slug})

    def payment_method_labels(self) -> list[str]:
        return [PaymentMethod(m).label for m in self.payment_methods if m in PaymentMethod.values]


def product_image_path(instance: "ProductImage", filename: str) -> str:
    return f"products/{instance.product.slug}/{filename}"


class ProductImage(models.Model):
    """A picture of a product, stored through Django's storage API; the lowest position is the main one.

    Thumbnails are made by sorl-thumbnail on first use; a replaced or deleted picture's file and its
    thumbnails are removed (shop.signals).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product"))
    image = models.ImageField(_("picture"), upload_to=product_image_path)
    alt_text = models.CharField(
        _("alt text"),
        max_length=200,
        help_text=_(
            "What the picture shows, read aloud to customers who cannot see it (e.g. “Sturman 8x42 binoculars, "
            "side view”)."
        ),
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text=_("The picture with the lowest number is the main one."), verbose_name=_("position")
    )

    class Meta:
        verbose_name = _("picture")
        verbose_name_plural = _("pictures")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.alt_text


class Region(models.Model):
    """ORD-TERRITORY: only regions with ``in_territory`` can be delivered to."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    code = models.CharField(max_length=20, unique=True, verbose_name=_("code"))
    in_territory = models.BooleanField(default=True, verbose_name=_("in territory"))

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeliveryMethod(models.Model):
    """SHIP-METHODS: air mail by default, express couriers with tracking."""

    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    carrier = models.CharField(max_length=60, blank=True, verbose_name=_("carrier"))
    is_default = models.BooleanField(default=False, verbose_name=_("is default"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    delivery_days_min = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0)], verbose_name=_("delivery days min")
    )
    delivery_days_max = models.PositiveSmallIntegerField(verbose_name=_("delivery days max"))
    requires_tracking = models.BooleanField(default=False, verbose_name=_("requires tracking"))
    collects_payment = models.BooleanField(
        _("can collect money at the door"),
        default=True,
        help_text=_(
            "The carrier takes cash or a card at the door (Russian Post, the shop's courier). Checkout offers "
            "cash or card to the courier only with methods that can."
        ),
    )
    tracking_url_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Use {number} where the tracking number goes."),
        verbose_name=_("tracking url pattern"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("delivery method")
        verbose_name_plural = _("delivery methods")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def tracking_url(self, number: str) -> str:
        return self.tracking_url_pattern.replace("{number}", number) if self.tracking_url_pattern else ""


class DeliveryRate(models.Model):
    """SHIP-COST-BY-REGION: the price depends on region and method only, never weight or size."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="rates", verbose_name=_("region"))
    method = models.ForeignKey(DeliveryMethod, on_delete=models.CASCADE, related_name="rates", verbose_name=_("method"))
    price = MoneyField(
        max_digits=12, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY, verbose_name=_("price")
    )

    class Meta:
        verbose_name = _("delivery rate")
        verbose_name_plural = _("delivery rates")
        constraints = [models.UniqueConstraint(fields=["region", "method"], name="uniq_rate_region_method")]
        ordering = ["region__name", "method__position"]

    def __str__(self) -> str:
        return f"{self.method} to {self.region}: {self.price}"


class CustomerProfile(models.Model):
    """What a customer keeps in their account besides Django's user: a phone number (name and e-mail are
    the user's own fields)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    phone = PhoneNumberField(
        _("phone"), blank=True, help_text=_("The courier calls this number; checkout fills it in.")
    )

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Address(models.Model):
    """An address in a customer's address book; the default one fills in checkout (ORD-FIELDS, ORD-TERRITORY)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("user")
    )
    full_name = models.CharField(_("full name of the recipient"), max_length=200)
    phone = PhoneNumberField(_("phone"))
    address = models.CharField(_("street address"), max_length=500)
    city = models.CharField(_("city"), max_length=120)
    postcode = models.CharField(_("postcode"), max_length=20)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name}, {self.address}, {self.postcode} {self.city}"


class Cart(models.Model):
    """A visitor's cart, stored in the database and tied to the session (and the user once logged in)."""

    session_key = models.CharField(max_length=64, null=True, blank=True, db_index=True, verbose_name=_("session key"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carts",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self) -> str:
        return f"Cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines", verbose_name=_("cart"))
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)], verbose_name=_("quantity"))
    added_at = models.DateTimeField(auto_now_add=True, verbose_name=_("added at"))

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="uniq_cartline_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class Email(models.Model):
    """The outbox: every message the shop sends is stored first, then sent by a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # A stable key ("order-ack:42") makes queuing idempotent: the same message is never queued twice.
    key = models.CharField(max_length=120, unique=True, null=True, blank=True, verbose_name=_("key"))
    to = models.EmailField(verbose_name=_("to"))
    subject = models.CharField(max_length=300, verbose_name=_("subject"))
    body_text = models.TextField(verbose_name=_("body text"))
    body_html = models.TextField(blank=True, verbose_name=_("body html"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    # Optional attachment builder ("orders.invoice"), run at send time in the worker, never in a request.
    attachment_builder = models.CharField(max_length=100, blank=True, verbose_name=_("attachment builder"))
    attachment_ref = models.CharField(max_length=100, blank=True, verbose_name=_("attachment ref"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class EmailAttachment(models.Model):
    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("email"))
    filename = models.CharField(max_length=200, verbose_name=_("filename"))
    mimetype = models.CharField(max_length=100, default="application/pdf", verbose_name=_("mimetype"))
    content = models.BinaryField(verbose_name=_("content"))

    class Meta:
        verbose_name = _("e-mail attachment")
        verbose_name_plural = _("e-mail attachments")

    def __str__(self) -> str:
        return self.filename
