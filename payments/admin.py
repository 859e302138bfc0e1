"""Staff views of payments, refunds and PayPal events; the fraud review queue; bank transfers awaiting funds.

Thin: list pages are read-only and every staff move is one service in ``payments.services``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from orders.admin import OrderAdmin
from orders.errors import OrderActionError
from orders.lifecycle import TransitionNotAllowed
from orders.models import HoldKind, Order, OrderHold
from shop.admin_tools import ReadOnlyAdminMixin, run_for_each
from shop.models import PaymentMethod

from . import services
from .forms import BankTransferForm, RefundIssueForm, RefundSentForm
from .models import (
    BankTransferOrder,
    FraudReviewOrder,
    Payment,
    PayPalTracker,
    Refund,
    RefundStatus,
    RefundWay,
    WebhookEvent,
)

# Issue #10: money moves only for staff holding the permission for that move (each of the first and
# last needs a second factor at the admin's login: shop.admin_site.SECOND_FACTOR_PERMISSIONS).
ISSUE_REFUND = "payments.issue_refund"
RECORD_BANK_TRANSFER = "payments.record_bank_transfer"
RECORD_REFUND_TRANSFER = "payments.record_refund_transfer"
VIEW_BANK_ACCOUNT = "payments.view_bank_account"


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _without(request, perm: str, columns, column: str) -> list:
    """The list's columns, without ``column`` (a button) for staff who lack ``perm``."""
    return [c for c in columns if c != column or request.user.has_perm(perm)]


def bank_account_for(request, refund: Refund) -> str:
    """The refund's account number: in full for staff with payments.view_bank_account, else the last 4."""
    if request.user.has_perm(VIEW_BANK_ACCOUNT):
        return refund.account_number or ""
    return refund.account_number_masked


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = [
        "created_at",
        "method",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "paypal_order_id",
        "capture_id",
        "confirmed_at",
        "review_reason",
    ]
    readonly_fields = fields
    show_change_link = True


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ["created_at", "amount", "way", "status", "reason", "reference", "sent_at"]
    readonly_fields = fields
    show_change_link = True


class PayPalTrackerInline(ReadOnlyAdminMixin, admin.TabularInline):
    """SHIP-NOTICES: each tracked parcel's number at PayPal — pending, added, or refused with PayPal's reason."""

    model = PayPalTracker
    extra = 0
    fields = ["created_at", "tracking_number", "carrier", "status", "attempts", "last_error", "added_at"]
    readonly_fields = fields


# The lifecycle engineer's OrderAdmin keeps its inlines a plain list for exactly this.
OrderAdmin.inlines = [*OrderAdmin.inlines, PaymentInline, RefundInline, PayPalTrackerInline]


def _form_page(modeladmin, request, *, title, form, obj, intro="", submit="Save", back_url=""):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "form": form,
        "submit": submit,
        "opts": modeladmin.model._meta,
        "original": obj,
        "back_url": back_url,
    }
    return TemplateResponse(request, "payments/admin_form.html", context)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "order_link",
        "method",
        "status",
        "amount",
        "captured_amount",
        "refunded_amount",
        "paypal_order_id",
        "confirmed_at",
        "refund_link",
    ]
    list_filter = ["status", "gateway", "method", "created_at"]
    search_fields = ["order__number", "paypal_order_id", "capture_id", "bank_reference"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("orders.view_order")

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj: Payment):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description="")
    def refund_link(self, obj: Payment):
        if obj.refundable.amount <= 0:
            return ""
        return format_html('<a href="{}">Refund</a>', reverse("admin:payments_payment_refund", args=[obj.pk]))

    def get_list_display(self, request):
        return _without(request, ISSUE_REFUND, super().get_list_display(request), "refund_link")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_payment_refund"
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id):
        """PAY-REFUND-SAME-WAY: staff refund part or all of a payment; the way follows the payment method."""
        _require(request, ISSUE_REFUND)
        payment = get_object_or_404(Payment.objects.select_related("order"), pk=object_id)
        form = RefundIssueForm(request.POST or None, initial={"amount": payment.refundable.amount})
        if request.method == "POST" and form.is_valid():
            try:
                services.refund_issue(
                    order_id=payment.order_id,
                    amount=Money(form.cleaned_data["amount"], payment.captured_amount.currency),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except services.RefundError as exc:
                form.add_error("amount", str(exc))
            else:
                self.message_user(
                    request,
                    _("Refund started for order %(number)s.") % {"number": payment.order.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_payment_change", args=[payment.pk]))
        return _form_page(
            self,
            request,
            title=f"Refund order {payment.order.number}",
            intro=f"Captured {payment.captured_amount}; already refunded {payment.refunded_amount}. "
            "The money goes back the way it came.",
            form=form,
            obj=payment,
            submit="Refund",
            back_url=reverse("admin:payments_payment_change", args=[payment.pk]),
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "order_number", "amount", "way", "status", "reference", "sent_at", "record_link"]
    list_filter = ["status", "way", "created_at"]
    search_fields = ["order__number", "gateway_refund_id", "reference", "account_holder"]
    list_select_related = ["order"]
    # The account number is encrypted and shown in full only to staff with payments.view_bank_account.
    fields = [f.name if f.name != "account_number" else "account_number_masked" for f in Refund._meta.fields]
    readonly_fields = [*fields, "account_number"]

    def get_list_display(self, request):
        return _without(request, RECORD_REFUND_TRANSFER, super().get_list_display(request), "record_link")

    def get_fields(self, request, obj=None):
        if request.user.has_perm(VIEW_BANK_ACCOUNT):
            return [f if f != "account_number_masked" else "account_number" for f in self.fields]
        return self.fields

    @admin.display(description=_("account number or IBAN"))
    def account_number_masked(self, obj: Refund):
        return obj.account_number_masked

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("orders.view_order")

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj: Refund):
        return obj.order.number

    @admin.display(description="")
    def record_link(self, obj: Refund):
        if obj.way != RefundWay.PAYPAL and obj.status == RefundStatus.PENDING:
            return format_html(
                '<a href="{}">Record the transfer</a>', reverse("admin:payments_refund_record", args=[obj.pk])
            )
        return ""

    def get_urls(self):
        return [
            path(
                "<path:object_id>/record/", self.admin_site.admin_view(self.record_view), name="payments_refund_record"
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, object_id):
        """Staff made the refund (bank transfer or card terminal) and record its reference → sent + e-mail."""
        _require(request, RECORD_REFUND_TRANSFER)
        refund = get_object_or_404(Refund.objects.select_related("order"), pk=object_id)
        form = RefundSentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.refund_mark_sent(
                    refund_id=refund.pk, reference=form.cleaned_data["reference"], actor=request.user
                )
            except services.RefundError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Refund for order %(number)s recorded as sent; the customer was e-mailed.")
                    % {"number": refund.order.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_refund_changelist"))
        account = (
            f"Account: {refund.account_holder}, {bank_account_for(request, refund)}, BIC {refund.bank_bic}."
            if refund.account_number
            else ""
        )
        return _form_page(
            self,
            request,
            title=f"Record the refund of {refund.amount} for order {refund.order.number}",
            intro=account,
            form=form,
            obj=refund,
            submit="Record as sent",
            back_url=reverse("admin:payments_refund_changelist"),
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "type",
        "event_id",
        "resource_id",
        "verified",
        "processed_at",
        "deliveries",
        "result",
    ]
    list_filter = ["type", "verified", "received_at"]
    search_fields = ["event_id", "resource_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]


class _OrderQueueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "created_at", "full_name", "email", "payment_method", "total", "paid_at"]
    search_fields = ["number", "email", "full_name"]
    list_per_page = 50

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.view_order") or request.user.has_perm("orders.change_order")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm(ISSUE_REFUND)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.pk]), obj.number)


@admin.register(FraudReviewOrder)
class FraudReviewAdmin(_OrderQueueAdmin):
    """PAY-FRAUD-CHECK: card-paid orders waiting for staff; approve → processing, reject → cancelled + card refund."""

    list_display = ["order_link", "created_at", "paid_at", "full_name", "email", "phone", "total", "card_payment"]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        card_payments = Prefetch(
            "payments",
            queryset=Payment.objects.filter(method=PaymentMethod.CARD_ONLINE).order_by("pk"),
            to_attr="card_payments",
        )
        in_review = OrderHold.objects.filter(kind=HoldKind.FRAUD_REVIEW, released_at__isnull=True)
        return super().get_queryset(request).filter(pk__in=in_review.values("order_id")).prefetch_related(card_payments)

    @admin.display(description=_("card payment"))
    def card_payment(self, obj):
        payment = obj.card_payments[-1] if obj.card_payments else None
        return f"{payment.captured_amount} · {payment.capture_id}" if payment else "—"

    @admin.action(description=_("Approve the card payment → processing"), permissions=["manage"])
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            services.fraud_review_approve,
            "Approved",
            errors=(TransitionNotAllowed, OrderActionError, services.PaymentError),
        )

    @admin.action(description=_("Reject: cancel the order and refund the card"), permissions=["manage", "refund"])
    def reject(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            services.fraud_review_reject,
            "Rejected, cancelled and refunded",
            errors=(TransitionNotAllowed, OrderActionError, services.PaymentError),
        )


@admin.register(BankTransferOrder)
class BankTransferAdmin(_OrderQueueAdmin):
    """PAY-PREPAID-FIRST: bank-transfer orders wait here until staff record the credited funds."""

    list_display = ["order_link", "created_at", "full_name", "email", "total", "record_link"]

    def get_list_display(self, request):
        return _without(request, RECORD_BANK_TRANSFER, super().get_list_display(request), "record_link")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(payment_method=PaymentMethod.BANK_TRANSFER, status=Order.Status.AWAITING_PAYMENT)
        )

    @admin.display(description="")
    def record_link(self, obj):
        return format_html(
            '<a href="{}">Record the credited funds</a>',
            reverse("admin:payments_banktransferorder_record", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/record/",
                self.admin_site.admin_view(self.record_view),
                name="payments_banktransferorder_record",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, object_id):
        """Staff enter amount, date and reference; an amount other than the total is refused with a message."""
        _require(request, RECORD_BANK_TRANSFER)
        order = get_object_or_404(Order, pk=object_id)
        form = BankTransferForm(request.POST or None, initial={"amount": order.total.amount})
        if request.method == "POST" and form.is_valid():
            try:
                services.payment_record_bank_transfer(
                    order_id=order.pk,
                    amount=Money(form.cleaned_data["amount"], order.total.currency),
                    credited_on=form.cleaned_data["credited_on"],
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                )
            except services.PaymentError as exc:
                form.add_error("amount" if "amount" in str(exc) else None, str(exc))
            else:
                self.message_user(request, _("Order %(number)s is paid.") % {"number": order.number}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:payments_banktransferorder_changelist"))
        return _form_page(
            self,
            request,
            title=f"Record the bank transfer for order {order.number}",
            intro=f"The order total is {order.total}. Record the funds only once they are credited.",
            form=form,
            obj=order,
            submit="Record the funds",
            back_url=reverse("admin:payments_banktransferorder_changelist"),
        )
