"""The life of a case: open, accept, decline, refund, replace, resolve (one service per action).

Each runs in the caller's transaction or its own, locks the order then the case (``shop.locks``),
is idempotent where a retry is likely (a key, or "already done"), moves the status only through
``refunds.lifecycle``, writes an order event and queues the customer's e-mail in the same
transaction. Money goes back only through ``payments.services.refund_issue`` (PAY-REFUND-SAME-WAY),
keyed per case, never above the case's value nor above what was captured net of earlier refunds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from orders import events, stock
from orders import services as order_services
from orders.models import Order, OrderLine
from payments import services as payment_services
from payments.models import CAPTURED_STATUSES, Payment, Refund, RefundStatus
from shop.calendar import BusinessCalendar
from shop.locks import lock_cases, lock_orders
from shop.models import PREPAID_METHODS, PaymentMethod, Policy
from shop.money import money

from .. import rules
from ..lifecycle import CASE_LIFECYCLE, case_move
from ..models import Case, CaseKind, CaseLine, CaseRemedy, CaseStatus
from ._common import CaseError, CaseErrorCode, case_email, case_emails, case_not_open, lock_case_with_order

K, S = CaseKind, CaseStatus

#: Refunded at once when the case opens (a cancellation or refusal decided by staff or the rules).
AT_ONCE_KINDS = frozenset(
    {K.NOT_COLLECTED, K.REFUSED_AT_DOOR, K.STOCKOUT_CANCEL, K.PRICE_ERROR, K.STAFF_CANCEL, K.FRAUD_CANCEL}
)


def _lines_value(lines: dict[int, int], order_lines: dict[int, OrderLine]) -> Decimal:
    return sum((order_lines[pk].unit_price.amount * qty for pk, qty in lines.items()), Decimal("0"))


def _check_lines(order: Order, lines: dict[int, int], order_lines: dict[int, OrderLine] | None = None):
    """The order's lines by pk (``order_lines``: read already), once ``lines`` are checked against them."""
    if order_lines is None:
        order_lines = {line.pk: line for line in order.lines.all()}
    for line_id, qty in lines.items():
        line = order_lines.get(line_id)
        if line is None:
            raise CaseError(
                _("Line %(line)s is not part of order %(number)s.") % {"line": line_id, "number": order.number},
                code=CaseErrorCode.UNKNOWN_LINE,
            )
        most = line.quantity - line.quantity_cancelled
        if not 1 <= qty <= most:
            raise CaseError(
                _("%(product)s: choose between 1 and %(most)s.") % {"product": line.product_name, "most": most},
                code=CaseErrorCode.BAD_QUANTITY,
                field="lines",
            )
    return order_lines


def _due_at_open(kind: str, remedy: str, *, order: Order, at) -> object:
    """REF-SLA: the refund due date a case has from the start, if its rule gives one then."""
    if kind in AT_ONCE_KINDS:
        return rules.refund_due(kind, at=at)
    if kind == K.WITHDRAWAL and order.paid_at is not None:
        return rules.refund_due(kind, at=at)  # REF-WITHDRAW-30D: 3 days after the statement
    if kind in (K.WRONG_ITEM, K.SHORT_DELIVERY) and remedy == CaseRemedy.REFUND:
        return rules.refund_due(kind, at=at)  # 10 days after the claim
    return None  # REF-DEFECT: set when the goods arrive; DLV-*: when a refund is chosen


@dataclass
class CaseOpening:
    """What ``cases_open`` needs to open one case (the arguments of ``case_open``)."""

    order_id: int
    kind: str
    lines: dict[int, int] | None = None
    statement: str = ""
    remedy: str = ""
    shipment_id: int | None = None
    actor: object = None
    key: str = ""
    amount: Money | None = None


def case_open(
    *,
    order_id: int,
    kind: str,
    lines: dict[int, int] | None = None,
    statement: str = "",
    remedy: str = "",
    shipment_id: int | None = None,
    actor=None,
    key: str = "",
    amount: Money | None = None,
) -> Case:
    """Open a case on the order (inside the caller's transaction, or its own). Idempotent by ``key``.

    ``lines`` maps order line ids to units. The case's value (what a refund would pay) is
    ``amount`` when given, else the lines' value. Writes the order event and queues the e-mail.
    """
    opening = CaseOpening(order_id, kind, lines, statement, remedy, shipment_id, actor, key, amount)
    return cases_open([opening])[0]


def cases_open(openings: list[CaseOpening]) -> list[Case]:
    """``case_open`` for several cases at once, with a fixed number of queries (issue #14: a periodic
    sweep opens hundreds): the orders locked in pk order, the keys already used, the orders' lines,
    then one INSERT each of the cases, their lines, their events and their e-mails. Returns the case of
    each opening in order (an existing one for a key already used). A bad line refuses them all."""
    with transaction.atomic():
        orders = lock_orders({o.order_id for o in openings})
        keys = {o.key for o in openings if o.key}
        found = {case.key: case for case in Case.objects.filter(key__in=keys)} if keys else {}
        todo = [o for o in openings if not (o.key and o.key in found)]
        order_lines: dict[int, dict[int, OrderLine]] = defaultdict(dict)
        for line in OrderLine.objects.filter(order_id__in={o.order_id for o in todo}):
            order_lines[line.order_id][line.pk] = line
        now = timezone.now()
        new: list[tuple[Case, dict[int, int], CaseOpening]] = []
        for opening in todo:
            if opening.key and opening.key in found:  # the same key twice in this list
                continue
            order = orders[opening.order_id]
            lines = {int(k): int(v) for k, v in (opening.lines or {}).items() if int(v)}
            _check_lines(order, lines, order_lines[order.pk])
            currency = order.total.currency
            amount = opening.amount
            if amount is None and lines:
                amount = money(_lines_value(lines, order_lines[order.pk]), currency)
            case = Case(
                order=order,
                kind=opening.kind,
                remedy=opening.remedy,
                statement=opening.statement.strip(),
                shipment_id=opening.shipment_id,
                amount=money(amount, currency) if amount is not None else None,
                refund_due_at=_due_at_open(opening.kind, opening.remedy, order=order, at=now),
                key=opening.key or None,
                opened_by=_actor(opening.actor),
            )
            new.append((case, lines, opening))
            if opening.key:
                found[opening.key] = case
        cases = [case for case, _lines, _opening in new]
        Case.objects.bulk_create(cases)
        CaseLine.objects.bulk_create(
            CaseLine(case=case, order_line=order_lines[case.order_id][pk], quantity=qty)
            for case, lines, _opening in new
            for pk, qty in sorted(lines.items())
        )
        with events.batched():
            for case, _lines, opening in new:
                events.case_opened(
                    order=case.order,
                    case_id=case.pk,
                    kind=case.kind,
                    label=CaseKind(case.kind).label,
                    refund_due_at=case.refund_due_at,
                    actor=_actor(opening.actor),
                )
        case_emails(cases, step="opened", orders=orders)
        by_opening = {id(opening): case for case, _lines, opening in new}
        return [found[o.key] if o.key else by_opening[id(o)] for o in openings]


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def case_accept(*, case_id: int, actor, remedy: str | None = None) -> Case:
    """Staff (or the rule) accept the case with its remedy; the refund due date follows (REF-SLA)."""
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.status == S.ACCEPTED and (remedy is None or remedy == case.remedy):
            return case
        if case.status != S.REQUESTED:
            raise case_not_open(case)
        remedy = remedy or case.remedy
        if not remedy:
            raise CaseError(_("Choose a remedy."), code=CaseErrorCode.REMEDY_REQUIRED, field="remedy")
        case.remedy = remedy
        fields = ["remedy"]
        if case.refund_due_at is None and remedy == CaseRemedy.REFUND:
            start = case.goods_received_at if case.kind == K.DEFECT else case.created_at
            if case.kind != K.DEFECT or start is not None:  # REF-DEFECT: only once the goods are in
                case.refund_due_at = rules.refund_due(case.kind, at=start)
                fields.append("refund_due_at")
        case_move(case, S.ACCEPTED, actor=_actor(actor), note=f"Remedy: {CaseRemedy(remedy).label}.", fields=fields)
        case_email(case, step="accepted")
        return case


def case_decline(*, case_id: int, reason: str, actor) -> Case:
    """Staff decline the case; the reason is required and sent to the customer."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(_("Give the reason: the customer is told."), code=CaseErrorCode.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.status == S.DECLINED:
            return case
        if case.status != S.REQUESTED:
            raise case_not_open(case)
        case.decline_reason = reason
        case.refund_due_at = None
        case.resolved_at = timezone.now()
        case_move(
            case,
            S.DECLINED,
            actor=_actor(actor),
            note=f"Reason: {reason}",
            fields=["decline_reason", "refund_due_at", "resolved_at"],
        )
        case_email(case, step="declined")
        return case


def case_withdraw(*, case_id: int, actor=None) -> Case:
    """The customer takes back a claim not decided yet."""
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.status == S.WITHDRAWN:
            return case
        if case.status != S.REQUESTED:
            raise CaseError(_("This case was already decided."), code=CaseErrorCode.NOT_OPEN)
        case.refund_due_at, case.resolved_at = None, timezone.now()
        case_move(case, S.WITHDRAWN, actor=_actor(actor), fields=["refund_due_at", "resolved_at"])
        case_email(case, step="withdrawn")
        return case


def case_resolve(*, case_id: int, actor, remedy: str | None = None, note: str = "") -> Case:
    """The remedy was delivered (refund started, replacement sent, repair done): the case is closed."""
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        return _resolve_locked(case, actor=actor, remedy=remedy, note=note)


def _resolve_locked(case: Case, *, actor, remedy: str | None = None, note: str = "") -> Case:
    return _resolve_many([case], actor=actor, remedies={case.pk: remedy}, note=note)[0]


def _resolve_many(cases: list[Case], *, actor, remedies: dict[int, str | None] | None = None, note: str = ""):
    """Close the (locked) cases with one note: one UPDATE, their events and e-mails together (issue #14).
    ``remedies``: a remedy by case id where one is chosen now. Every case is checked before any moves."""
    todo = []
    for case in cases:
        if case.status == S.RESOLVED:
            continue
        if case.status not in (S.REQUESTED, S.ACCEPTED):
            raise case_not_open(case)
        remedy = (remedies or {}).get(case.pk)
        if remedy:
            case.remedy = remedy
        if not case.remedy:
            raise CaseError(_("Choose a remedy."), code=CaseErrorCode.REMEDY_REQUIRED, field="remedy")
        todo.append(case)
    now = timezone.now()
    for case in todo:
        case.resolved_at, case.resolution_note = now, note.strip()
    CASE_LIFECYCLE.move_many(
        todo, S.RESOLVED, actor=_actor(actor), note=note.strip(), fields=["remedy", "resolved_at", "resolution_note"]
    )
    case_emails(todo, step="resolved")
    return cases


# --- Money (PAY-REFUND-SAME-WAY) ---------------------------------------------------------------
def case_refunded(case: Case) -> Money:
    """What this case has sent or started sending back (failed refunds excluded)."""
    currency = case.order.total.currency
    rows = case.refunds.exclude(status=RefundStatus.FAILED).values_list("amount", flat=True)
    return money(sum(rows, Decimal("0")), currency)


def _order_refundable(order: Order) -> Decimal:
    return _orders_refundable([order.pk]).get(order.pk, Decimal("0"))


def _orders_refundable(order_ids: list[int]) -> dict[int, Decimal]:
    """What each order's captured payments can still refund, by order id, in one query."""
    left: dict[int, Decimal] = defaultdict(Decimal)
    for payment in Payment.objects.filter(order_id__in=order_ids, status__in=CAPTURED_STATUSES):
        left[payment.order_id] += payment.refundable.amount
    return left


def case_refund(*, case_id: int, amount: Money | None = None, actor=None) -> Refund | None:
    """Refund the case through the payments service, the way the money came (PAY-REFUND-SAME-WAY).

    Default amount: the case's value less what it already refunded. Never above the case's value,
    never above what was captured net of earlier refunds (``refund_issue`` checks that under the
    payments' locks; the order lock taken first here serialises every refund of the order). Running
    it again once the case is refunded in full returns the last refund and sends nothing more.
    The case's due date, if none yet, is now (REF-SLA). Returns None when nothing was captured.
    """
    return cases_refund([(case_id, amount)], actor=actor)[0]


def cases_refund(items: list[tuple[int, Money | None]], *, actor=None) -> list[Refund | None]:
    """``case_refund`` for several cases (case id, amount or None), with a fixed number of queries
    (issue #14: a periodic sweep refunds hundreds): orders then cases locked in pk order, what each case
    refunded and each order's payments read once, the refunds issued together (``refunds_issue``), the
    cases updated with one UPDATE and e-mailed together. A refusal refuses them all."""
    with transaction.atomic():
        ids = [case_id for case_id, _amount in items]
        order_of = dict(Case.objects.filter(pk__in=ids).values_list("pk", "order_id"))
        orders = lock_orders(set(order_of.values()))
        cases = lock_cases(ids)
        if len(cases) != len(set(ids)):
            raise Case.DoesNotExist("No such case.")
        for case in cases.values():
            case.order = orders[case.order_id]
        done: dict[int, Decimal] = defaultdict(Decimal)
        count: Counter = Counter()
        last: dict[int, Refund] = {}
        links = Case.refunds.through.objects.filter(case_id__in=ids).select_related("refund").order_by("refund_id")
        for link in links:
            count[link.case_id] += 1
            last[link.case_id] = link.refund
            if link.refund.status != RefundStatus.FAILED:
                done[link.case_id] += link.refund.amount.amount
        # What each payment and order can still refund, kept up to date as the refunds are planned.
        payments: dict[int, list[Payment]] = defaultdict(list)
        for payment in Payment.objects.filter(order_id__in=set(order_of.values()), status__in=CAPTURED_STATUSES):
            payments[payment.order_id].append(payment)
        for rows in payments.values():
            rows.sort(key=lambda p: p.pk)
        pay_left = {p.pk: p.refundable.amount for rows in payments.values() for p in rows}
        result: dict[int, Refund | None] = {}
        requests, owners, changed = [], [], []
        for case_id, amount in items:
            case = cases[case_id]
            order = case.order
            if case.status not in (S.REQUESTED, S.ACCEPTED, S.RESOLVED):
                raise case_not_open(case)
            currency = order.total.currency
            order_left = sum((pay_left[p.pk] for p in payments[order.pk]), Decimal("0"))
            left = case.amount.amount - done[case.pk] if case.amount is not None else order_left
            if amount is None:
                if left <= 0:
                    result[case.pk] = last.get(case.pk)
                    continue
                wanted = min(left, order_left)
            else:
                wanted = money(amount, currency).amount
                if case.amount is not None and wanted > left:
                    raise CaseError(
                        _("This case is worth %(value)s; %(left)s of it is left to refund.")
                        % {"value": case.amount, "left": money(left, currency)},
                        code=CaseErrorCode.REFUND_ABOVE_VALUE,
                        field="amount",
                    )
            if wanted <= 0:
                if amount is None:
                    result[case.pk] = None  # nothing captured: nothing to send back (an unpaid order)
                    continue
                raise CaseError(
                    _("The refund amount must be positive."), code=CaseErrorCode.NOTHING_TO_REFUND, field="amount"
                )
            reason = f"{case.get_kind_display()} (case {case.pk})"
            # One refund per payment when the money came in several payments (pk order), each keyed per case.
            chunks, remaining = [], wanted
            for payment in payments[order.pk]:
                part = min(remaining, pay_left[payment.pk])
                if part > 0:
                    chunks.append(part)
                    remaining -= part
                    pay_left[payment.pk] -= part
            if remaining > 0 or not chunks:
                chunks = [wanted]  # refund_issue says how much is left, with its own message and code
            for part in chunks:
                count[case.pk] += 1
                requests.append(
                    payment_services.RefundRequest(
                        order.pk, Money(part, currency), reason, _actor(actor), f"case-{case.pk}-{count[case.pk]}"
                    )
                )
                owners.append(case)
            if not case.remedy:
                case.remedy = CaseRemedy.REFUND
            if case.refund_due_at is None:
                case.refund_due_at = timezone.now()
            if case.amount is None:
                case.amount = money(wanted, currency)
            changed.append(case)
        try:
            refunds = payment_services.refunds_issue(requests)
        except payment_services.RefundError as exc:
            raise CaseError(str(exc), code=exc.code, field="amount") from exc
        Case.refunds.through.objects.bulk_create(
            [
                Case.refunds.through(case_id=case.pk, refund_id=refund.pk)
                for case, refund in zip(owners, refunds, strict=True)
            ],
            ignore_conflicts=True,  # a refund found by its key is linked already
        )
        for case, refund in zip(owners, refunds, strict=True):
            result[case.pk] = refund
        if changed:
            Case.objects.bulk_update(changed, ["remedy", "refund_due_at", "amount_currency", "amount"])
        case_emails(changed, step="refund", extra_of=lambda c: {"step_key": result[c.pk].pk, "refund": result[c.pk]})
        return [result[case_id] for case_id, _amount in items]


def case_refund_start(*, order_id: int, kind: str, amount: Money, reason: str, actor) -> Case:
    """Staff refund part of an order from its admin page: a case of ``kind`` opened, accepted and
    refunded in one transaction, so a refusal (more than was paid) leaves no case behind."""
    with transaction.atomic():
        case = case_open(
            order_id=order_id, kind=kind, statement=reason, remedy=CaseRemedy.REFUND, amount=amount, actor=actor
        )
        case_accept(case_id=case.pk, actor=actor)
        case_refund(case_id=case.pk, amount=amount, actor=actor)  # above what was paid: refused, rolled back
        return case


# --- Replacement orders ------------------------------------------------------------------------
def _replacement_lines(case: Case) -> list[tuple[OrderLine, int]]:
    lines = [(cl.order_line, cl.quantity) for cl in case.lines.select_related("order_line")]
    if lines:
        return lines
    if case.shipment_id is not None:  # DLV-LOST: the parcel's lines
        return [(sl.order_line, sl.quantity) for sl in case.shipment.lines.select_related("order_line")]
    return [
        (line, line.quantity - line.quantity_cancelled)
        for line in case.order.lines.all()
        if line.quantity > line.quantity_cancelled
    ]


def case_replacement_order(*, case_id: int, actor) -> Order:
    """A new order at no charge with the case's goods, linked to it; fulfilment takes it like any order.

    It is created processing and settled (nothing to pay: ``paid_at`` is now, total zero), takes its
    stock (SHIP-STOCKOUT if short), gets its ship-by date (SHIP-WITHIN-2BD) and becomes ready, so the
    fulfilment partner hears of it (SHIP-SUBCONTRACTOR). A second call returns the same order.
    """
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.replacement_order_id is not None:
            return case.replacement_order
        if case.status not in (S.REQUESTED, S.ACCEPTED):
            raise case_not_open(case)
        original = case.order
        lines = _replacement_lines(case)
        if not lines:
            raise CaseError(_("The case has no goods to replace."), code=CaseErrorCode.NO_LINES)
        now = timezone.now()
        zero = Money(0, original.total.currency)
        # Nothing is owed: a prepaid method stays (nothing to collect at the door); one paid on
        # delivery becomes "bank transfer" so no courier asks for money.
        method = original.payment_method if original.payment_method in PREPAID_METHODS else PaymentMethod.BANK_TRANSFER
        replacement = Order.objects.create(
            user=original.user,
            status=Order.Status.PROCESSING,
            email=original.email,
            full_name=original.full_name,
            phone=original.phone,
            address=original.address,
            city=original.city,
            postcode=original.postcode,
            region=original.region,
            delivery_method=original.delivery_method,
            payment_method=method,
            no_marketing_inserts=original.no_marketing_inserts,
            subtotal=zero,
            delivery_cost=zero,
            discount=zero,
            total=zero,
            checkout_token=f"replacement-case-{case.pk}",
            paid_at=now,
            ship_by=BusinessCalendar.current().add_business_days(now, Policy.load().ship_within_days),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=replacement,
                product=line.product,
                product_name=line.product_name,
                sku=line.sku,
                unit_price=zero,
                quantity=qty,
                line_total=zero,
                warranty_months=line.warranty_months,
            )
            for line, qty in lines
        )
        events.order_placed(order=replacement, actor=_actor(actor))
        missing = stock.take_available(order=replacement)
        if missing:
            order_services.order_stock_short(order=replacement, missing=missing, actor=_actor(actor))
        order_services.order_ready_check(replacement, actor=_actor(actor))
        case.replacement_order = replacement
        fields = ["replacement_order"]
        if case.remedy not in (CaseRemedy.REPLACEMENT, CaseRemedy.RESHIP):
            case.remedy = CaseRemedy.RESHIP if case.kind in (K.LATE_PARCEL, K.LOST_PARCEL) else CaseRemedy.REPLACEMENT
            fields.append("remedy")
        case.save(update_fields=fields)
        events.case_replacement_ordered(
            order=original, case_id=case.pk, replacement_number=replacement.number, actor=_actor(actor)
        )
        case_email(case, step="replacement", replacement=replacement)
        return replacement


# --- REF-WRONG-ITEM: wrong goods the customer keeps --------------------------------------------------
def case_charge_kept_goods(*, case_id: int, product_id: int, quantity: int, actor) -> Money:
    """REF-WRONG-ITEM: the customer keeps the wrong goods: they pay the site price (the product's price now).

    With a refund as the remedy the charge is taken off the refund still to send (the case's value goes
    down, never below what was already refunded); otherwise it is added to what the order owes (a fee,
    ``order_adjust``). Charging the same case twice changes nothing.
    """
    from shop.models import Product

    quantity = int(quantity)
    if quantity < 1:
        raise CaseError(
            _("Enter how many units the customer keeps."), code=CaseErrorCode.BAD_QUANTITY, field="quantity"
        )
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.kind != K.WRONG_ITEM:
            raise CaseError(_("Only wrong goods kept are charged."), code=CaseErrorCode.NOT_ALLOWED)
        if case.kept_goods_charge is not None:
            return case.kept_goods_charge
        order = case.order
        product = Product.objects.get(pk=product_id)
        charge = money(product.price.amount * quantity, order.total.currency)
        case.kept_goods_charge = charge
        fields = ["kept_goods_charge", "keeps_wrong_goods"]
        case.keeps_wrong_goods = True
        note = f"{quantity} × {product.name} kept at the site price ({charge})"
        if case.remedy == CaseRemedy.REFUND and case.amount is not None:
            floor = case_refunded(case).amount
            case.amount = money(max(case.amount.amount - charge.amount, floor), order.total.currency)
            fields.append("amount")
            note += f"; the refund is now {case.amount}"
        else:
            order_services.order_adjust(
                order=order,
                kind="fee",
                amount=charge,
                reason=events.Phrase(
                    gettext_noop("Wrong goods kept at the site price (case %(case)s, REF-WRONG-ITEM)"), case=case.pk
                ),
                key=f"kept-goods:{case.pk}",
                actor=_actor(actor),
            )
        case.resolution_note = note
        fields.append("resolution_note")
        case.save(update_fields=fields)
        events.staff_note(order=order, text=f"Case {case.pk}: {note}.", actor=_actor(actor))
        case_email(case, step="kept", charge=charge, note=note)
        return charge
