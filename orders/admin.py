"""Staff views of orders and customers' pay-on-delivery standing.

Thin: pages are read-only (no ORM writes here); every staff move goes through one service in
``orders.services`` / ``orders.standing``. ``OrderAdmin.inlines`` stays a plain list: the payments
app appends its Payment/Refund inlines from ``payments/admin.py``; ``OrderAdmin.tool_links`` likewise
takes the buttons of higher apps (shipping's "Create shipment").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shop.admin_tools import (
    EstimatedCountPaginator,
    InUseRelatedFilter,
    QuickActionCheckboxMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTablesMixin,
    run_for_each,
)

from . import holds, lifecycle, services, standing
from .errors import OrderActionError
from .lifecycle import TransitionNotAllowed
from .models import (
    OVERLAP_RULE,
    BonusAccount,
    BonusEntry,
    CustomerStanding,
    CustomerStandingLog,
    Discount,
    HoldKind,
    Order,
    OrderDiscount,
    OrderEvent,
    OrderHold,
    OrderLine,
    PriceCorrection,
)
from .price_forms import PriceCorrectionForm


class CancelOrderForm(forms.Form):
    """ORD-REFUSE: a reason is optional; when given it is e-mailed to the customer."""

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional. Sent to the customer in the cancellation e-mail.",
    )


class MisconductForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="What happened.")


class LiftForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class NoteForm(forms.Form):
    """A staff note: internal, in the order's timeline, never shown to the customer."""

    text = forms.CharField(
        label="Note",
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Only staff see it, in the order's timeline.",
    )


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = [
        "product_name",
        "sku",
        "unit_price",
        "quantity",
        "quantity_cancelled",
        "quantity_shipped",
        "quantity_delivered",
        "quantity_refused",
        "quantity_returned",
        "line_total",
        "discount",
        "warranty_months",
    ]
    readonly_fields = fields


class OrderDiscountInline(_ReadOnlyInline):
    """PAY-DISCOUNTS: the order's discount lines and points spent, as confirmed."""

    model = OrderDiscount
    fields = ["label", "code", "target", "amount", "discount"]
    readonly_fields = fields
    verbose_name_plural = "discounts and points"


class OrderHoldInline(_ReadOnlyInline):
    """Holds: what the order waits for, by when, and how each ended."""

    model = OrderHold
    fields = ["kind", "opened_at", "due_at", "note", "released_at", "resolution", "released_by"]
    readonly_fields = fields
    verbose_name_plural = "holds (price confirmation, fraud review, stock decision, claims)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("released_by")


#: The hold kinds as staff say them (HoldKind's labels are the customer's words on the order page).
STAFF_HOLD_LABELS = {
    HoldKind.PRICE_CONFIRMATION: "Customer to confirm a corrected price",
    HoldKind.FRAUD_REVIEW: "Card payment to check",
    HoldKind.STOCK_DECISION: "Customer to choose: item unavailable",
    HoldKind.CLAIM: "Return or claim open",
}


class OpenHoldFilter(admin.SimpleListFilter):
    """Orders waiting on something: one open hold kind, or any."""

    title = _("on hold")
    parameter_name = "hold"

    def lookups(self, request, model_admin):
        return [("any", "Any hold"), *STAFF_HOLD_LABELS.items(), ("none", "No hold")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        open_holds = OrderHold.objects.filter(released_at__isnull=True)
        if value == "none":
            return queryset.exclude(pk__in=open_holds.values("order_id"))
        if value != "any":
            open_holds = open_holds.filter(kind=value)
        return queryset.filter(pk__in=open_holds.values("order_id"))


class PriceCorrectionInline(_ReadOnlyInline):
    model = PriceCorrection
    fields = ["line", "old_unit_price", "new_unit_price", "created_at", "resolved", "accepted"]
    readonly_fields = fields
    verbose_name_plural = "price corrections"  # ORD-PRICE-ERROR

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("line")


class OrderEventInline(_ReadOnlyInline):
    """The order's timeline: time, type, actor, message."""

    model = OrderEvent
    fields = ["created_at", "type", "actor", "what", "customer_visible"]
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    @admin.display(description=_("message"))
    def what(self, event: OrderEvent) -> str:
        return event.text  # in the staff member's language where the sentence is known

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _with_note_form(modeladmin, request, queryset, *, form_class, title, intro, action, apply, done_message):
    """The intermediate admin page of an action that needs a note: form, then ``apply(obj, data)``.

    ``done_message(obj)`` says what happened to each row ("Order RX-… is now cancelled …").
    """
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done, failed = [], []
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data)
                done.append(done_message(obj))
            except (TransitionNotAllowed, OrderActionError, ValueError) as exc:
                failed.append(f"{obj}: {exc}")
        for text in done:
            modeladmin.message_user(request, text, messages.SUCCESS)
        for text in failed:
            modeladmin.message_user(request, text, messages.ERROR)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "form": form,
        "objects": list(queryset),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/orders/note_action.html", context)


@admin.register(Order)
class OrderAdmin(QuickActionCheckboxMixin, ReadOnlyTablesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "created_at",
        "full_name",
        "email",
        "status",
        "payment_status",
        "payment_method",
        "total",
        "ship_by",
    ]
    # Regions: only those orders were placed to (the delivery territory), not every region on file.
    list_filter = [
        "status",
        "payment_status",
        OpenHoldFilter,
        "payment_method",
        "created_at",
        ("region", InUseRelatedFilter),
    ]
    search_fields = ["number", "email", "phone", "full_name"]
    # Issue #14: no date_hierarchy (it runs SELECT DISTINCT DATE_TRUNC over every order on each page);
    # the "created at" filter (today, past 7 days, this month, this year) reads the created_at index.
    # The paginator's COUNT is the only count: no second one for "N total" next to a filtered count.
    show_full_result_count = False
    # The unfiltered list of every order is counted from the planner's estimate (issue #14).
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [OrderLineInline, OrderDiscountInline, OrderHoldInline, PriceCorrectionInline, OrderEventInline]
    #: Buttons higher apps add to the order page (``tool_links.append(fn)`` from their admin.py, as with
    #: ``inlines``): ``fn(request, order)`` returns (label, url) or None when it does not apply.
    tool_links: list = []
    actions = ["cancel_orders", "approve_card_payment", "mark_wrong_price"]
    change_form_template = "admin/orders/order/change_form.html"
    fieldsets = [
        (None, {"fields": ["number", "status", "payment_status", "created_at", "user", "cod_standing"]}),
        ("Customer", {"fields": ["full_name", "email", "phone"]}),
        ("Delivery", {"fields": ["address", "city", "postcode", "region", "delivery_method", "no_marketing_inserts"]}),
        (
            "Payment and totals",
            {
                "fields": [
                    "payment_method",
                    "subtotal",
                    "delivery_cost",
                    "discount",
                    "delivery_discount",
                    "total",
                    "paid_at",
                    "stock_taken",
                ]
            },
        ),
        (
            "Deadlines",
            {"fields": ["ship_by", "cancelled_at", "cancel_reason"]},
        ),
    ]

    # --- read-only pages: every change is a service call --------------------------------------
    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_manage_permission(self, request, obj=None) -> bool:
        """Staff who may act on orders (the model's change permission)."""
        return request.user.has_perm("orders.change_order")

    @admin.display(description=_("Pay on delivery"))  # PAY-COD-RESTRICT
    def cod_standing(self, obj: Order):
        decision = standing.cod_decision(email=obj.email)
        row = CustomerStanding.objects.filter(email=obj.email.strip().lower()).only("pk").first()
        link = (
            format_html(
                ' · <a href="{}">standing and log</a>', reverse("admin:orders_customerstanding_change", args=[row.pk])
            )
            if row
            else ""
        )
        if decision.allowed:
            return format_html("Allowed{}", link)
        return format_html('<strong style="color:#b00">Withdrawn</strong>: {}{}', decision.reason, link)

    # --- extra pages --------------------------------------------------------------------------
    def get_urls(self):
        own = [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="orders_order_cancel",
            ),
            path(
                "<path:object_id>/price-error/",
                self.admin_site.admin_view(self.price_error_view),
                name="orders_order_price_error",
            ),
            path(
                "<path:object_id>/misconduct/",
                self.admin_site.admin_view(self.misconduct_view),
                name="orders_order_misconduct",
            ),
            path(
                "<path:object_id>/note/",
                self.admin_site.admin_view(self.note_view),
                name="orders_order_note",
            ),
            path(
                "<path:object_id>/move/<str:move>/",
                self.admin_site.admin_view(self.move_view),
                name="orders_order_move",
            ),
        ]
        return own + super().get_urls()

    def _order_or_denied(self, request, object_id) -> Order:
        if not self.has_manage_permission(request):
            raise PermissionDenied
        return get_object_or_404(Order, pk=object_id)

    def _change_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def cancel_view(self, request, object_id):
        """ORD-REFUSE: cancel one order with an optional reason."""
        order = self._order_or_denied(request, object_id)
        form = CancelOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_cancel(order_id=order.pk, reason=form.cleaned_data["reason"], actor=request.user)
            except TransitionNotAllowed:
                form.add_error(None, f"An order in status “{order.get_status_display()}” cannot be cancelled.")
            else:
                self.message_user(
                    request, _("Order %(number)s cancelled; the customer was e-mailed.") % {"number": order.number}
                )
                return HttpResponseRedirect(self._change_url(order))
        return self._object_page(
            request,
            order,
            form,
            title=_("Cancel order %(number)s") % {"number": order.number},
            submit=_("Cancel order"),
        )

    def price_error_view(self, request, object_id):
        """ORD-PRICE-ERROR: staff enter corrected unit prices; the customer is asked to accept or cancel."""
        order = self._order_or_denied(request, object_id)
        form = PriceCorrectionForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_price_error_mark(
                    order_id=order.pk, corrections=form.cleaned_data["corrections"], actor=request.user
                )
            except OrderActionError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Order %(number)s: the customer was asked to confirm the new price.") % {"number": order.number},
                )
                return HttpResponseRedirect(self._change_url(order))
        return self._object_page(
            request,
            order,
            form,
            title=_("Mark a wrong price on order %(number)s") % {"number": order.number},
            submit=_("Ask the customer"),
        )

    def misconduct_view(self, request, object_id):
        """PAY-COD-RESTRICT (c): withdraw pay on delivery from this order's customer, with a note."""
        order = self._order_or_denied(request, object_id)
        if not request.user.has_perm("orders.change_customerstanding"):
            raise PermissionDenied
        form = MisconductForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            standing.standing_mark_misconduct(email=order.email, note=form.cleaned_data["note"], actor=request.user)
            self.message_user(request, _("Pay on delivery withdrawn from %(email)s.") % {"email": order.email})
            return HttpResponseRedirect(self._change_url(order))
        return self._object_page(
            request,
            order,
            form,
            title=_("Mark misconduct of %(email)s") % {"email": order.email},
            submit=_("Withdraw pay on delivery"),
        )

    def note_view(self, request, object_id):
        """Staff add an internal note (never shown to the customer); it appears in the timeline."""
        order = self._order_or_denied(request, object_id)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_note_add(order_id=order.pk, text=form.cleaned_data["text"], actor=request.user)
            except OrderActionError as exc:
                form.add_error("text", str(exc))
            else:
                self.message_user(
                    request, _("Note added to order %(number)s.") % {"number": order.number}, messages.SUCCESS
                )
                return HttpResponseRedirect(self._change_url(order))
        return self._object_page(
            request,
            order,
            form,
            title=_("Add a note to order %(number)s") % {"number": order.number},
            submit=_("Add note"),
        )

    def move_view(self, request, object_id, move: str):
        """One-click moves from the change page (POST only)."""
        order = self._order_or_denied(request, object_id)
        moves = {"approve": services.order_fraud_approve}
        if request.method != "POST" or move not in moves:
            return HttpResponseRedirect(self._change_url(order))
        try:
            moves[move](order_id=order.pk, actor=request.user)
        except (TransitionNotAllowed, OrderActionError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            order.refresh_from_db(fields=["status"])
            self.message_user(
                request,
                _("Card payment approved: order %(number)s is now %(status)s.")
                % {"number": order.number, "status": order.get_status_display().lower()},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self._change_url(order))

    def _object_page(self, request, order, form, *, title, submit):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "order": order,
            "form": form,
            "submit": submit,
            "opts": self.model._meta,
            "original": order,
            "change_url": self._change_url(order),
        }
        return TemplateResponse(request, "admin/orders/order/object_form.html", context)

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_manage"] = self.has_manage_permission(request)
        order = context.get("original")
        if order is not None:
            held = holds.open_kinds(order)
            context["in_fraud_review"] = HoldKind.FRAUD_REVIEW in held
            context["can_correct_price"] = (
                HoldKind.PRICE_CONFIRMATION not in held and order.status in holds.OPENS_IN[HoldKind.PRICE_CONFIRMATION]
            )
            context["can_cancel"] = order.status in lifecycle.CANCELLABLE
            context["tool_links"] = [link for fn in self.tool_links if (link := fn(request, order))]
        return super().render_change_form(request, context, *args, **kwargs)

    # --- list actions -------------------------------------------------------------------------
    @admin.action(description=_("Cancel order…"), permissions=["manage"])  # ORD-REFUSE
    def cancel_orders(self, request, queryset):
        return _with_note_form(
            self,
            request,
            queryset.order_by("pk"),
            form_class=CancelOrderForm,
            title="Cancel orders",
            intro="The customers are e-mailed (with the reason, if you give one); stock is returned and "
            "anything paid is refunded.",
            action="cancel_orders",
            apply=lambda order, data: services.order_cancel(
                order_id=order.pk, reason=data["reason"], actor=request.user
            ),
            done_message=lambda order: f"Order {order.number} is now cancelled; the customer was e-mailed.",
        )

    @admin.action(description=_("Approve card payment"), permissions=["manage"])  # PAY-FRAUD-CHECK
    def approve_card_payment(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            services.order_fraud_approve,
            "Card payment approved",
            errors=(TransitionNotAllowed, OrderActionError),
        )

    @admin.action(description=_("Mark a wrong price…"), permissions=["manage"])  # ORD-PRICE-ERROR
    def mark_wrong_price(self, request, queryset):
        orders = list(queryset[:2])
        if len(orders) != 1:
            self.message_user(request, _("Select exactly one order to correct its prices."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:orders_order_price_error", args=[orders[0].pk]))


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "order", "type", "actor", "message", "customer_visible"]
    search_fields = ["order__number", "message"]
    list_select_related = ["order", "actor"]
    list_filter = ["type", "customer_visible", "created_at"]  # no date_hierarchy: see OrderAdmin
    show_full_result_count = False


class CustomerStandingLogInline(_ReadOnlyInline):
    model = CustomerStandingLog
    fields = ["created_at", "cod_allowed", "reason", "actor"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(CustomerStanding)
class CustomerStandingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """PAY-COD-RESTRICT: who may pay on delivery, why not, and every change."""

    list_display = ["email", "cod_allowed", "cod_reason", "misconduct", "lifted_at", "updated_at"]
    list_filter = ["cod_allowed", "misconduct"]
    search_fields = ["email"]
    fields = ["email", "user", "cod_allowed", "cod_reason", "misconduct", "misconduct_note", "lifted_at", "recent"]
    readonly_fields = fields
    inlines = [CustomerStandingLogInline]
    list_select_related = ["user"]
    actions = ["lift_restriction", "mark_misconduct", "recompute"]

    def has_manage_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.change_customerstanding")

    @admin.display(description=_("Recent orders"))
    def recent(self, obj: CustomerStanding):
        orders = Order.objects.filter(email__iexact=obj.email).only("pk", "number", "status", "total")[:10]
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            ((reverse("admin:orders_order_change", args=[o.pk]), o.number, o.get_status_display()) for o in orders),
        )

    @admin.action(description=_("Lift restriction…"), permissions=["manage"])
    def lift_restriction(self, request, queryset):
        return _with_note_form(
            self,
            request,
            queryset.order_by("pk"),
            form_class=LiftForm,
            title="Lift restriction",
            intro="Pay on delivery becomes available again; earlier refusals and failed deliveries no longer count.",
            action="lift_restriction",
            apply=lambda row, data: standing.standing_lift(email=row.email, actor=request.user, note=data["note"]),
            done_message=lambda row: f"Pay on delivery is available again to {row.email}.",
        )

    @admin.action(description=_("Mark misconduct…"), permissions=["manage"])
    def mark_misconduct(self, request, queryset):
        return _with_note_form(
            self,
            request,
            queryset.order_by("pk"),
            form_class=MisconductForm,
            title="Mark misconduct",
            intro="Pay on delivery is withdrawn; the customer sees the reason at checkout.",
            action="mark_misconduct",
            apply=lambda row, data: standing.standing_mark_misconduct(
                email=row.email, note=data["note"], actor=request.user
            ),
            done_message=lambda row: f"Misconduct recorded: pay on delivery is withdrawn from {row.email}.",
        )

    @admin.action(description=_("Recompute from order history"), permissions=["manage"])
    def recompute(self, request, queryset):
        emails = list(queryset.values_list("email", flat=True))
        for email in emails:
            standing.standing_recompute(email=email, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "Pay-on-delivery standing recomputed from order history for %(count)d customer.",
                "Pay-on-delivery standing recomputed from order history for %(count)d customers.",
                len(emails),
            )
            % {"count": len(emails)},
            messages.SUCCESS,
        )


# --- PAY-DISCOUNTS ------------------------------------------------------------------------------
class DiscountForm(forms.ModelForm):
    class Meta:
        model = Discount
        fields = [
            "name",
            "is_active",
            "kind",
            "value",
            "target",
            "products",
            "categories",
            "payment_method",
            "delivery_method",
            "min_order_value",
            "code",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
        ]

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code", "").strip().upper()
        if code and Discount.objects.filter(code=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another discount already has this code.")
        return code

    def clean(self):
        data = super().clean()
        if data.get("kind") == Discount.Kind.PERCENT and data.get("value") and data["value"] > 100:
            self.add_error("value", "A percentage cannot be more than 100.")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The end must be after the start.")
        if data.get("target") == Discount.Target.ITEMS and not (data.get("products") or data.get("categories")):
            self.add_error("products", "Choose the products or categories this discount is for.")
        return data


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    """Staff run discounts here; which apply and how they combine is ``orders.discounts`` (the overlap rule)."""

    form = DiscountForm
    list_display = [
        "name",
        "kind",
        "value",
        "target",
        "code",
        "payment_method",
        "delivery_method",
        "starts_at",
        "ends_at",
        "usage_limit",
        "uses",
        "is_active",
    ]
    list_filter = ["is_active", "target", "kind", "payment_method"]
    search_fields = ["name", "code"]
    filter_horizontal = ["products", "categories"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "kind", "value", "target"], "description": OVERLAP_RULE}),
        ("Which goods (product/category discounts)", {"fields": ["products", "categories"]}),
        ("Conditions", {"fields": ["payment_method", "delivery_method", "min_order_value", "code"]}),
        ("When and how often", {"fields": ["starts_at", "ends_at", "usage_limit", "per_customer_limit"]}),
    ]

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .select_related("delivery_method")
            .annotate(n_uses=Count("uses", filter=~Q(uses__order__status="cancelled")))
        )

    @admin.display(description=_("used"), ordering="n_uses")
    def uses(self, obj) -> int:
        return obj.n_uses


class BonusEntryInline(_ReadOnlyInline):
    model = BonusEntry
    fields = ["created_at", "kind", "points", "order", "note"]
    readonly_fields = fields


@admin.register(BonusAccount)
class BonusAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """PAY-DISCOUNTS bonus programme: read-only; points move only through ``orders.bonus``."""

    list_display = ["user", "balance"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "balance"]
    inlines = [BonusEntryInline]
