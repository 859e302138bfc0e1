"""The shop's admin: the store Policy (one object), catalogue, territory and delivery, the outbox, carts.

Thin: standard ModelAdmins; the one business action here ("Send again") calls ``shop.emails.email_resend``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin
from sorl.thumbnail.admin import AdminImageMixin

from .admin_tools import ReadOnlyAdminMixin
from .emails import email_resend
from .forms import ProductAdminForm
from .models import (
    Cart,
    CartLine,
    Category,
    Closure,
    DeliveryMethod,
    DeliveryRate,
    Email,
    Policy,
    Product,
    ProductImage,
    Region,
)
from .selectors import LOW_STOCK


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """A singleton: the changelist opens the one object; it can be changed, never added twice or deleted."""

    # Only the numbers some code reads: a field nothing reads yet is shown, with its help text, by the
    # change that starts reading it. tests/shop/test_admin_shop.py lists the hidden ones.
    fieldsets = [
        (
            "The shop",
            {
                "fields": ["shop_name", "legal_name", "shop_address", "shop_email", "shop_phone", "currency"],
                "description": "How the shop presents itself on its pages, in e-mails and on invoices.",
            },
        ),
        (
            "Seller's legal details and VAT",
            {
                "fields": ["seller_inn", "seller_kpp", "seller_ogrn", "vat_rate", "vat_exempt_reason"],
                "description": "Printed on every invoice with the legal name and postal address above.",
            },
        ),
        (
            "Bank details for bank transfers",
            {
                "fields": [
                    "bank_recipient",
                    "bank_account",
                    "bank_name",
                    "bank_bic",
                    "bank_correspondent_account",
                ],
                "description": "A customer paying by bank transfer sees these, with the payment purpose and a QR "
                "code their banking app reads (GOST R 56042-2014), on the order page, in the acknowledgement "
                "and on the invoice. The recipient's INN and KPP are the seller's.",
            },
        ),
        (
            "Business days and hours",
            {
                "fields": ["country", "time_zone", "business_hours_start", "business_hours_end"],
                "description": "Business days are weekdays that are neither public holidays nor closures "
                "(see Closures). Every deadline in business days follows them (SHIP-BUSINESS-HOURS).",
            },
        ),
        (
            "Payment",
            {
                "fields": ["prepay_threshold_amount", "prepay_threshold_items", "paypal_reconcile_hours"],
                "description": "PAY-PREPAY-THRESHOLD, PAY-PAYPAL",
            },
        ),
        (
            "Withdrawing pay on delivery",
            {
                "fields": ["cod_restrict_orders", "cod_refused_share", "cod_failed_deliveries"],
                "description": "When a customer loses cash or card to the courier (PAY-COD-RESTRICT). Staff can "
                "also withdraw it for misconduct, or give it back, on the customer's standing.",
            },
        ),
        (
            "Orders and shipping",
            {
                "fields": [
                    "price_error_answer_days",
                    "processing_days_min",
                    "processing_days_max",
                    "ship_within_days",
                    "stockout_answer_days",
                ],
                "description": "ORD-PRICE-ERROR, SHIP-PROCESSING-TIME, SHIP-WITHIN-2BD, SHIP-STOCKOUT",
            },
        ),
        (
            "Fulfilment and delivery",
            {
                "fields": [
                    "at_risk_share_of_day",
                    "staff_email",
                    "redelivery_fee",
                    "accept_within_days",
                    "collect_reminder_days",
                    "late_parcel_margin_days",
                ],
                "description": "SHIP-WITHIN-2BD (the work queue), SHIP-ADDRESS-CHANGE, DLV-ACCEPT-14D, DLV-LATE",
            },
        ),
        (
            "Bonus programme",
            {
                "fields": ["bonus_earn_percent", "bonus_spend_max_percent"],
                "description": "PAY-DISCOUNTS: points customers earn and may spend (discounts themselves are under "
                "Orders → Discounts).",
            },
        ),
        (
            "Withdrawal, claims and refunds",
            {
                "fields": [
                    "withdraw_days",
                    "withdraw_refund_days",
                    "default_warranty_months",
                    "defect_refund_days",
                    "wrong_item_refund_days",
                    "short_delivery_refund_days",
                ],
                "description": "REF-WITHDRAW-30D, REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY, REF-SLA: calendar "
                "days, counted in the shop's time zone.",
            },
        ),
        (
            "Security",
            {"fields": ["link_valid_days"], "description": "How long links sent to customers by e-mail work."},
        ),
    ]
    # Each product's price has its own currency: editing this one would convert nothing.
    readonly_fields = ["currency"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not Policy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        policy = Policy.load()
        return HttpResponseRedirect(reverse("admin:shop_policy_change", args=[policy.pk]))


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["date", "reason"]
    date_hierarchy = "date"
    search_fields = ["reason"]


@admin.register(Category)
class CategoryAdmin(TranslationAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class StockStatusFilter(admin.SimpleListFilter):
    title = _("stock status")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("low", f"Low ({LOW_STOCK} or fewer)"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "in":
            return queryset.filter(stock__gt=LOW_STOCK)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=LOW_STOCK)
        if self.value() == "out":
            return queryset.filter(stock__lte=0)
        return queryset


class ProductImageInline(AdminImageMixin, admin.TabularInline):
    """The product's pictures: the lowest position is the main one (catalogue card, cart, e-mails)."""

    model = ProductImage
    extra = 1
    fields = ["image", "alt_text", "position"]


@admin.register(Product)
class ProductAdmin(TranslationAdmin):
    form = ProductAdminForm
    inlines = [ProductImageInline]
    list_display = ["name", "sku", "category", "price", "stock", "is_active", "warranty_months"]
    list_filter = ["category", "is_active", StockStatusFilter]
    list_select_related = ["category"]
    search_fields = ["name", "sku"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    list_per_page = 50


@admin.register(Region)
class RegionAdmin(TranslationAdmin):
    list_display = ["name", "code", "in_territory"]
    list_filter = ["in_territory"]
    search_fields = ["name", "code"]

    def get_search_results(self, request, queryset, search_term):
        """ORD-TERRITORY: where a delivery rate's region is chosen, only the delivery territory is offered."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "deliveryrate":
            queryset = queryset.filter(in_territory=True)
        return queryset, may_have_duplicates


class TerritoryRegionMixin:
    """ORD-TERRITORY: a region outside the delivery territory is not offered as a choice."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = Region.objects.filter(in_territory=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DeliveryRateInline(TerritoryRegionMixin, admin.TabularInline):
    model = DeliveryRate
    extra = 0
    autocomplete_fields = ["region"]


@admin.register(DeliveryMethod)
class DeliveryMethodAdmin(TranslationAdmin):
    list_display = [
        "name",
        "code",
        "carrier",
        "is_default",
        "is_active",
        "delivery_days_min",
        "delivery_days_max",
        "requires_tracking",
        "collects_payment",
        "position",
    ]
    list_filter = ["is_active", "requires_tracking", "collects_payment"]
    prepopulated_fields = {"code": ["name"]}
    inlines = [DeliveryRateInline]


@admin.register(DeliveryRate)
class DeliveryRateAdmin(TerritoryRegionMixin, admin.ModelAdmin):
    list_display = ["region", "method", "price"]
    list_filter = ["method", "region__in_territory"]
    list_select_related = ["region", "method"]
    search_fields = ["region__name"]


@admin.register(Email)
class EmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox, read-only; staff may only ask for a message to be sent again."""

    list_display = ["to", "subject", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = [
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "key",
        "attachment_builder",
        "attachment_ref",
        "body_text",
        "body_html",
    ]
    readonly_fields = fields

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("shop.change_email")

    @admin.action(description=_("Send again"), permissions=["resend"])
    def send_again(self, request, queryset):
        count = 0
        for email_id in queryset.values_list("pk", flat=True):
            email_resend(email_id=email_id)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued to be sent again.", "%(count)d e-mails queued to be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["product", "quantity", "added_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "user", "session_key", "created_at", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "session_key", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [CartLineInline]
