"""The refund desk (REF-SLA): one queue of open cases and unsent refunds, soonest due first, with
"due soon" and "overdue" marked; each case's page has the staff actions (accept, decline with a
reason, record goods received, restock or write off, issue the refund, replacement order, resolve).

Read-only by the admin's own forms: every change is one service call (refunds.services).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from orders.admin import OrderAdmin
from payments.models import RefundStatus
from shop.admin_tools import ReadOnlyAdminMixin
from shop.models import Product

from . import rules, services
from .forms import AcceptForm, DeclineForm, RefundForm
from .models import OPEN_STATUSES, Case, CaseKind, CaseLine, CasePhoto, CaseStatus

MANAGE = "refunds.change_case"
#: Moving money needs the payments permission too (and so the admin's second factor, shop.admin_site).
ISSUE_REFUND = "payments.issue_refund"
UNSENT = (RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.AWAITING_BANK_DETAILS)
#: On the desk: open, or refunded but the money has not left yet.
ON_DESK = Q(status__in=OPEN_STATUSES) | Q(refunds__status__in=UNSENT)


def _require(request, *extra: str) -> None:
    if not all(request.user.has_perm(perm) for perm in (MANAGE, *extra)):
        raise PermissionDenied


def due_mark(case: Case, *, now=None, soon=None) -> str:
    """REF-SLA: "overdue", "due soon" (within one business day) or "" for a case still owing a refund."""
    if case.refund_due_at is None or case.status in (CaseStatus.DECLINED, CaseStatus.WITHDRAWN):
        return ""
    now = now or timezone.now()
    if case.refund_due_at < now:
        return "overdue"
    if case.refund_due_at <= (soon or rules.due_soon_before(now)):
        return "due soon"
    return ""


class DeskFilter(admin.SimpleListFilter):
    """The desk by default: open cases and cases whose refund is not sent yet."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("desk", "On the desk (open or refund not sent)"), ("all", "All cases")]

    def choices(self, changelist):
        value = self.value() or "desk"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if (self.value() or "desk") == "desk":
            return queryset.filter(ON_DESK).distinct()
        return queryset


class CaseLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseLine
    extra = 0
    fields = [
        "order_line",
        "quantity",
        "quantity_received",
        "quantity_damaged",
        "quantity_restocked",
        "quantity_written_off",
    ]
    readonly_fields = fields


class CaseInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order page's cases (each links to its desk page)."""

    model = Case
    fk_name = "order"
    extra = 0
    fields = ["case_link", "kind", "status", "remedy", "amount", "refund_due_at"]
    readonly_fields = fields

    @admin.display(description=_("case"))
    def case_link(self, obj: Case):
        return format_html('<a href="{}">#{}</a>', reverse("admin:refunds_case_change", args=[obj.pk]), obj.pk)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "order_link", "kind", "status", "remedy", "amount", "due", "refund_state", "created_at"]
    list_filter = [DeskFilter, "kind", "status", "remedy"]
    search_fields = ["order__number", "order__email", "statement"]
    list_select_related = ["order"]
    list_per_page = 50
    # REF-SLA: soonest due first; cases with no due date (a claim still being looked at) after them.
    ordering = [F("refund_due_at").asc(nulls_last=True), "created_at", "pk"]
    inlines = [CaseLineInline]
    actions = ["accept_cases", "refund_cases"]
    change_form_template = "admin/refunds/case/change_form.html"
    fields = [
        "order_link",
        "kind",
        "status",
        "remedy",
        "amount",
        "refund_due_at",
        "goods_received_at",
        "statement",
        "photo_links",
        "keeps_wrong_goods",
        "kept_goods_charge",
        "decline_reason",
        "resolution_note",
        "shipment",
        "replacement_order",
        "refund_rows",
        "opened_by",
        "created_at",
        "resolved_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("refunds")

    def changelist_view(self, request, extra_context=None):
        self._now, self._soon = timezone.now(), rules.due_soon_before()
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj: Case):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description=_("refund due"), ordering="refund_due_at")
    def due(self, obj: Case):
        if obj.refund_due_at is None:
            return "—"
        mark = due_mark(obj, now=getattr(self, "_now", None), soon=getattr(self, "_soon", None))
        when = timezone.localtime(obj.refund_due_at).strftime("%d %b %Y %H:%M")
        if mark:
            css = "color:#ba2121;font-weight:bold" if mark == "overdue" else "color:#b36b00;font-weight:bold"
            return format_html('{} <span class="due-mark" style="{}">{}</span>', when, css, mark)
        return when

    @admin.display(description=_("refund"))
    def refund_state(self, obj: Case):
        rows = list(obj.refunds.all())
        if not rows:
            return "—"
        return ", ".join(f"{r.amount} {r.get_status_display().lower()}" for r in rows)

    @admin.display(description=_("photos"))
    def photo_links(self, obj: Case):
        return (
            format_html_join(
                " ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:refunds_case_photo", args=[obj.pk, p.pk]), f"photo {i}")
                    for i, p in enumerate(obj.photos.all(), 1)
                ),
            )
            or "—"
        )

    @admin.display(description=_("refunds"))
    def refund_rows(self, obj: Case):
        return self.refund_state(obj)

    # --- list actions -------------------------------------------------------------------------
    @admin.action(description=_("Accept with the chosen remedy"), permissions=["manage"])
    def accept_cases(self, request, queryset):
        self._each(request, queryset, lambda c: services.case_accept(case_id=c, actor=request.user), _("Accepted"))

    @admin.action(description=_("Issue the refund (the case's value)"), permissions=["refund"])
    def refund_cases(self, request, queryset):
        self._each(
            request, queryset, lambda c: services.case_refund(case_id=c, actor=request.user), _("Refund started")
        )

    def _each(self, request, queryset, call, label):
        done = 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True).distinct():
            try:
                call(pk)
                done += 1
            except services.CaseError as exc:
                self.message_user(
                    request, gettext("Case %(case)s: %(error)s") % {"case": pk, "error": exc}, messages.ERROR
                )
        if done:
            text = ngettext("%(label)s: %(count)s case.", "%(label)s: %(count)s cases.", done)
            self.message_user(request, text % {"label": label, "count": done}, messages.SUCCESS)

    def has_manage_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE)

    def has_refund_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and request.user.has_perm(ISSUE_REFUND)

    # --- the case page's buttons --------------------------------------------------------------
    def render_change_form(self, request, context, *args, **kwargs):
        case = context.get("original")
        context["can_manage"] = self.has_manage_permission(request)
        if case is not None:
            context["is_open"] = case.status in OPEN_STATUSES
            context["is_requested"] = case.status == CaseStatus.REQUESTED
            context["has_lines"] = case.lines.exists()
            context["due_mark"] = due_mark(case)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:case_id>/accept/", view(self.accept_view), name="refunds_case_accept"),
            path("<int:case_id>/decline/", view(self.decline_view), name="refunds_case_decline"),
            path("<int:case_id>/received/", view(self.received_view), name="refunds_case_received"),
            path("<int:case_id>/settle/", view(self.settle_view), name="refunds_case_settle"),
            path("<int:case_id>/refund/", view(self.refund_view), name="refunds_case_refund"),
            path("<int:case_id>/replacement/", view(self.replacement_view), name="refunds_case_replacement"),
            path("<int:case_id>/resolve/", view(self.resolve_view), name="refunds_case_resolve"),
            path("<int:case_id>/kept/", view(self.kept_view), name="refunds_case_kept"),
            path("<int:case_id>/photo/<int:photo_id>/", view(self.photo_view), name="refunds_case_photo"),
            path("order/<int:order_id>/refund/", view(self.order_refund_view), name="refunds_order_refund"),
            *super().get_urls(),
        ]

    def _page(self, request, *, case, title, form, intro="", submit=""):
        back = reverse("admin:refunds_case_change", args=[case.pk]) if case else ""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "form": form,
            "submit": submit or gettext("Save"),
            "opts": self.model._meta,
            "original": case,
            "back_url": back,
        }
        return TemplateResponse(request, "payments/admin_form.html", context)

    def _done(self, request, case_id, text):
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:refunds_case_change", args=[case_id]))

    def _case(self, case_id) -> Case:
        return get_object_or_404(Case.objects.select_related("order"), pk=case_id)

    def accept_view(self, request, case_id):
        _require(request)
        case = self._case(case_id)
        form = AcceptForm(request.POST or None, initial={"remedy": case.remedy})
        if request.method == "POST" and form.is_valid():
            try:
                services.case_accept(case_id=case.pk, actor=request.user, remedy=form.cleaned_data["remedy"])
            except services.CaseError as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Case accepted; the customer was e-mailed."))
        return self._page(
            request, case=case, title=gettext("Accept %(case)s") % {"case": case}, form=form, submit=gettext("Accept")
        )

    def decline_view(self, request, case_id):
        _require(request)
        case = self._case(case_id)
        form = DeclineForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.case_decline(case_id=case.pk, reason=form.cleaned_data["reason"], actor=request.user)
            except services.CaseError as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Case declined; the customer was e-mailed the reason."))
        intro = ""
        if case.kind == CaseKind.SHORT_DELIVERY and case.shipment_id is None:
            intro = gettext(
                "No Act of Discrepancy is attached to this claim: it may be declined for that (REF-SHORT-DELIVERY)."
            )
        return self._page(
            request,
            case=case,
            title=gettext("Decline %(case)s") % {"case": case},
            form=form,
            intro=intro,
            submit=gettext("Decline"),
        )

    def received_view(self, request, case_id):
        """Record the goods that came back, per line (received, damaged): starts REF-DEFECT's refund clock."""
        _require(request)
        case = self._case(case_id)
        lines = list(case.lines.select_related("order_line"))
        form = _received_form(lines)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            received = {
                cl.pk: (form.cleaned_data[f"received_{cl.pk}"] or 0, form.cleaned_data[f"damaged_{cl.pk}"] or 0)
                for cl in lines
            }
            try:
                services.case_goods_receive(case_id=case.pk, received=received, actor=request.user)
            except services.CaseError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Goods recorded as received; the customer was e-mailed."))
        return self._page(
            request,
            case=case,
            title=gettext("Goods received for %(case)s") % {"case": case},
            form=form,
            submit=gettext("Record"),
        )

    def settle_view(self, request, case_id):
        """Per line: put arrived units back in stock, or write them off."""
        _require(request)
        case = self._case(case_id)
        lines = [cl for cl in case.lines.select_related("order_line") if cl.quantity_unsettled]
        form = _settle_form(lines)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                for cl in lines:
                    restock = form.cleaned_data[f"restock_{cl.pk}"] or 0
                    write_off = form.cleaned_data[f"write_off_{cl.pk}"] or 0
                    if restock or write_off:
                        services.case_goods_settle(
                            case_id=case.pk,
                            case_line_id=cl.pk,
                            restock=restock,
                            write_off=write_off,
                            actor=request.user,
                        )
            except services.CaseError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Returned goods restocked or written off."))
        intro = "" if lines else gettext("Nothing arrived that waits for a decision.")
        return self._page(
            request,
            case=case,
            title=gettext("Restock or write off (%(case)s)") % {"case": case},
            form=form,
            intro=intro,
        )

    def refund_view(self, request, case_id):
        _require(request, ISSUE_REFUND)
        case = self._case(case_id)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                services.case_refund(
                    case_id=case.pk,
                    amount=Money(amount, case.order.total.currency) if amount else None,
                    actor=request.user,
                )
            except services.CaseError as exc:
                form.add_error("amount", str(exc))
            else:
                return self._done(request, case.pk, gettext("Refund started; it goes back the way the customer paid."))
        done = services.case_refunded(case)
        intro = gettext("Case value %(value)s; already refunded %(done)s. Never more than was paid.") % {
            "value": case.amount or "—",
            "done": done,
        }
        return self._page(
            request,
            case=case,
            title=gettext("Refund %(case)s") % {"case": case},
            form=form,
            intro=intro,
            submit=gettext("Refund"),
        )

    def replacement_view(self, request, case_id):
        _require(request)
        case = self._case(case_id)
        form = forms.Form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                replacement = services.case_replacement_order(case_id=case.pk, actor=request.user)
            except services.CaseError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(
                    request,
                    case.pk,
                    gettext("Replacement order %(number)s created at no charge.") % {"number": replacement.number},
                )
        return self._page(
            request,
            case=case,
            title=gettext("Replacement order for %(case)s") % {"case": case},
            form=form,
            intro=gettext("A new order at no charge with the case's goods goes to the warehouse like any order."),
            submit=gettext("Create the replacement order"),
        )

    def resolve_view(self, request, case_id):
        _require(request)
        case = self._case(case_id)
        form = _ResolveForm(request.POST or None, initial={"remedy": case.remedy})
        if request.method == "POST" and form.is_valid():
            try:
                services.case_resolve(
                    case_id=case.pk,
                    actor=request.user,
                    remedy=form.cleaned_data["remedy"] or None,
                    note=form.cleaned_data["note"],
                )
            except services.CaseError as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Case resolved; the customer was e-mailed."))
        return self._page(
            request, case=case, title=gettext("Resolve %(case)s") % {"case": case}, form=form, submit=gettext("Resolve")
        )

    def kept_view(self, request, case_id):
        """REF-WRONG-ITEM: the customer keeps the wrong goods: charge them at the site price."""
        _require(request)
        case = self._case(case_id)
        form = _KeptForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                charge = services.case_charge_kept_goods(
                    case_id=case.pk,
                    product_id=form.cleaned_data["product"].pk,
                    quantity=form.cleaned_data["quantity"],
                    actor=request.user,
                )
            except services.CaseError as exc:
                form.add_error(exc.field or None, str(exc))
            else:
                return self._done(request, case.pk, gettext("Kept goods charged: %(charge)s.") % {"charge": charge})
        intro = gettext("The product the customer received and keeps; it is charged at its price on the site now.")
        return self._page(
            request, case=case, title=gettext("Wrong goods kept (%(case)s)") % {"case": case}, form=form, intro=intro
        )

    def photo_view(self, request, case_id, photo_id):
        """A customer's photo, for staff only (the media folder is not served publicly)."""
        if not request.user.has_perm("refunds.view_case"):
            raise PermissionDenied
        photo = get_object_or_404(CasePhoto, pk=photo_id, case_id=case_id)
        return FileResponse(photo.image.open("rb"))

    def order_refund_view(self, request, order_id):
        """A refund started from the order's admin page: it opens a case of the kind staff choose (REF-SLA)."""
        _require(request, ISSUE_REFUND)
        from orders.models import Order

        order = get_object_or_404(Order, pk=order_id)
        form = _OrderRefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount = Money(form.cleaned_data["amount"], order.total.currency)
            try:
                case = services.case_refund_start(
                    order_id=order.pk,
                    kind=form.cleaned_data["kind"],
                    amount=amount,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except services.CaseError as exc:
                form.add_error("amount", str(exc))
            else:
                return self._done(
                    request,
                    case.pk,
                    gettext("Refund of %(amount)s started for order %(number)s.")
                    % {"amount": amount, "number": order.number},
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Refund order %(number)s") % {"number": order.number},
            "intro": gettext(
                "The refund is recorded as a case and goes back the way the customer paid, never above what was paid."
            ),
            "form": form,
            "submit": gettext("Refund"),
            "opts": self.model._meta,
            "back_url": reverse("admin:orders_order_change", args=[order.pk]),
        }
        return TemplateResponse(request, "payments/admin_form.html", context)


class _KeptForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.order_by("name"))
    quantity = forms.IntegerField(min_value=1, initial=1)


class _ResolveForm(forms.Form):
    remedy = forms.ChoiceField(choices=[("", "—"), *Case.Remedy.choices], required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class _OrderRefundForm(forms.Form):
    kind = forms.ChoiceField(choices=CaseKind.choices)
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01)
    reason = forms.CharField(max_length=300)


def _received_form(lines: list[CaseLine]) -> type[forms.Form]:
    fields = {}
    for cl in lines:
        left = cl.quantity - cl.quantity_received
        fields[f"received_{cl.pk}"] = forms.IntegerField(
            label=f"{cl.order_line.product_name}: received", min_value=0, max_value=left, required=False, initial=left
        )
        fields[f"damaged_{cl.pk}"] = forms.IntegerField(
            label=f"{cl.order_line.product_name}: of them damaged", min_value=0, required=False, initial=0
        )
    return type("ReceivedForm", (forms.Form,), fields)


def _settle_form(lines: list[CaseLine]) -> type[forms.Form]:
    fields = {}
    for cl in lines:
        n = cl.quantity_unsettled
        fields[f"restock_{cl.pk}"] = forms.IntegerField(
            label=f"{cl.order_line.product_name}: back in stock",
            min_value=0,
            max_value=n,
            required=False,
            initial=n - min(n, cl.quantity_damaged),
        )
        fields[f"write_off_{cl.pk}"] = forms.IntegerField(
            label=f"{cl.order_line.product_name}: write off",
            min_value=0,
            max_value=n,
            required=False,
            initial=min(n, cl.quantity_damaged),
        )
    return type("SettleForm", (forms.Form,), fields)


# The order's admin page: its cases, and a refund started from it (through a case).
def _order_refund_link(request, order):
    if request.user.has_perm(MANAGE) and request.user.has_perm(ISSUE_REFUND) and order.paid_at is not None:
        return "Refund (opens a case)", reverse("admin:refunds_order_refund", args=[order.pk])
    return None


OrderAdmin.inlines = [*OrderAdmin.inlines, CaseInline]
OrderAdmin.tool_links = [*OrderAdmin.tool_links, _order_refund_link]
