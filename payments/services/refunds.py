"""Refunds out (PAY-REFUND-SAME-WAY): money goes back the way it came, never above what was captured.

A refund is an obligation: its row is written in the transaction that decides it (a cancellation
runs the ``order_cancelled`` hook inside its own transaction, and the refunds app's receiver opens
the case that calls ``refund_issue``), the PayPal call happens after
commit in ``payments.tasks.payments_refund_send`` (Celery's retry options), and
``refunds_resend_stuck`` (beat) queues again any PayPal refund still *requested* past a margin.
Locks: order, payment, refund (``shop.locks``). Every status change goes through ``payments.lifecycle``.

Note: ``paypal`` in this module is the PayPal client, ``payments.paypal``.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from orders import bonus, events
from orders.access import order_link_for_email
from shop.emails import Message, email_queue, emails_queue
from shop.locks import (
    lock_order,
    lock_orders,
    lock_payment,
    lock_payments_of,
    lock_refund,
    lock_refunds,
)
from shop.money import format_money, money
from shop.obligations import SWEEP_MARGIN_SECONDS, enqueue_after_commit, requeue

from .. import gateways, paypal
from ..lifecycle import payment_move, refund_move
from ..models import CAPTURED_STATUSES, Payment, PaymentStatus, Refund, RefundStatus, RefundWay
from ..selectors import BANK_DETAILS_OPEN
from ._common import PaymentErrorCode, RefundError, _lock_payment

SEND_TASK = "payments.tasks.payments_refund_send"


def _lock_refund(refund_id: int) -> Refund:
    """The refund with its order and payment, locked in the one lock order: order, payment, refund."""
    order_id, payment_id = Refund.objects.values_list("order_id", "payment_id").get(pk=refund_id)
    order = lock_order(order_id)
    payment = lock_payment(payment_id)
    payment.order = order
    refund = lock_refund(refund_id)
    refund.order, refund.payment = order, payment
    return refund


logger = logging.getLogger(__name__)


# --- Refunds out (PAY-REFUND-SAME-WAY) ------------------------------------------------------
@dataclass
class RefundRequest:
    """One refund for ``refunds_issue`` (the arguments of ``refund_issue``)."""

    order_id: int
    amount: Money
    reason: str
    actor: object = None
    key: str = ""


def refund_issue(*, order_id: int, amount: Money, reason: str, actor=None, key: str = "") -> Refund:
    """Send money back the way it came: PayPal/card → refund of the capture; COD/transfer → bank account.

    Partial refunds are allowed; the total refunded never exceeds what was captured (locked Payment
    row here, a CHECK constraint in the database). ``key`` makes the call idempotent: a second call
    with the same key returns the first refund.
    """
    return refunds_issue([RefundRequest(order_id, amount, reason, actor, key)])[0]


def refunds_issue(requests: list[RefundRequest]) -> list[Refund]:
    """``refund_issue`` for several refunds with a fixed number of queries (issue #14: a periodic sweep
    refunds hundreds of orders): the orders, then their captured payments, locked in pk order with one
    query each; one read of the keys used; one UPDATE of the payments and one INSERT of the refunds.
    Returns the refund of each request in order; a refusal (above what was captured) refuses them all."""
    with transaction.atomic():
        orders = lock_orders({r.order_id for r in requests})
        payments: dict[int, list[Payment]] = defaultdict(list)
        for payment in lock_payments_of(orders, status__in=CAPTURED_STATUSES):
            payment.order = orders[payment.order_id]
            payments[payment.order_id].append(payment)
        keys = {r.key for r in requests if r.key}
        # Checked under the payments' lock: two calls with one key never both create.
        found = {refund.idempotency_key: refund for refund in Refund.objects.filter(idempotency_key__in=keys)}
        unkeyed = {r.order_id for r in requests if not r.key}
        counts = Counter(
            dict(
                Refund.objects.filter(order_id__in=unkeyed)
                .values("order_id")
                .annotate(n=Count("pk"))
                .values_list("order_id", "n")
            )
            if unkeyed
            else {}
        )
        result: list[Refund] = []
        new: list[tuple[Refund, RefundRequest]] = []
        for request in requests:
            if request.key and request.key in found:
                result.append(found[request.key])
                continue
            order = orders[request.order_id]
            amount = money(request.amount, order.total.currency)
            if amount.amount <= 0:
                raise RefundError(_("The refund amount must be positive."), code=PaymentErrorCode.REFUND_NOT_POSITIVE)
            payment = next((p for p in payments[order.pk] if p.refundable >= amount), None)
            if payment is None:
                left = sum((p.refundable.amount for p in payments[order.pk]), Decimal("0"))
                raise RefundError(
                    _("Only %(amount)s can still be refunded on this order.")
                    % {"amount": format_money(left, order.total.currency)},
                    code=PaymentErrorCode.REFUND_ABOVE_CAPTURED,
                )
            key = request.key
            if not key:
                counts[order.pk] += 1
                key = f"{order.number}-refund-{counts[order.pk]}"
            refund = _refund_new(payment, amount=amount, reason=request.reason, actor=request.actor, key=key)
            found[key] = refund
            result.append(refund)
            new.append((refund, request))
        _refunds_create(new)
        return result


def _refund_new(payment: Payment, *, amount: Money, reason: str, actor, key: str) -> Refund:
    """The refund row (not saved yet) and the payment's refunded amount, with ``payment`` locked."""
    way = gateways.route(payment.method).refund_way
    status = {
        RefundWay.PAYPAL: RefundStatus.REQUESTED,
        RefundWay.BANK_ACCOUNT: RefundStatus.AWAITING_BANK_DETAILS,
        RefundWay.CARD_TERMINAL: RefundStatus.PENDING,
    }[way]
    payment.refunded_amount = payment.refunded_amount + amount
    return Refund(
        order=payment.order,
        payment=payment,
        amount=amount,
        status=status,
        way=way,
        reason=reason[:300],
        idempotency_key=key,
        requested_by=actor,
    )


def _refunds_create(new: list[tuple[Refund, RefundRequest]]) -> None:
    """Write the refunds of ``_refund_new``: the payments (the CHECK constraint backs the check above),
    the rows, their events, and the obligations (PayPal after commit; a bank account asked by e-mail)."""
    if not new:
        return
    changed = list({id(refund.payment): refund.payment for refund, _request in new}.values())
    Payment.objects.bulk_update(changed, ["refunded_amount"])
    Refund.objects.bulk_create([refund for refund, _request in new])
    with events.batched():
        for refund, request in new:
            events.refund_requested(
                order=refund.order, amount=refund.amount, reason=request.reason, actor=request.actor
            )
    for refund, _request in new:
        if refund.way == RefundWay.PAYPAL:
            enqueue_after_commit(SEND_TASK, refund.pk)  # the REQUESTED row is the obligation
    emails_queue(
        [
            Message(
                to=refund.order.email,
                language=refund.order.language,
                template="refund_bank_details_request",
                context={
                    "order": refund.order,
                    "refund": refund,
                    "form_url": order_link_for_email(refund.order, view="payments:refund_account"),
                },
                key=f"refund-bank-details:{refund.pk}",
            )
            for refund, _request in new
            if refund.way == RefundWay.BANK_ACCOUNT
        ]
    )


def refund_send(*, refund_id: int) -> Refund:
    """Ask PayPal to refund the capture (PayPal and cards). Safe to repeat: the request id is the refund's key.

    Raises ``paypal.PayPalUnavailable`` when PayPal cannot answer (the task retries).
    """
    refund = Refund.objects.select_related("payment", "order").get(pk=refund_id)
    if refund.way != RefundWay.PAYPAL or refund.status != RefundStatus.REQUESTED:
        return refund
    try:
        answer = paypal.capture_refund(
            capture_id=refund.payment.capture_id,
            amount=refund.amount.amount,
            currency=str(refund.amount.currency),
            request_id=refund.idempotency_key,
            note=f"Refund for order {refund.order.number}",
        )
    except paypal.PayPalUnavailable:
        raise
    except paypal.PayPalError as exc:
        return refund_fail(refund_id=refund.pk, reason=str(exc))
    return refund_paypal_record(refund_id=refund.pk, answer=answer)


def refund_paypal_record(*, refund_id: int, answer: dict) -> Refund:
    """Record PayPal's answer about a refund (from the refund call or a PAYMENT.CAPTURE.REFUNDED webhook)."""
    status = (answer.get("status") or "COMPLETED").upper()
    if status in {"FAILED", "CANCELLED"}:
        return refund_fail(refund_id=refund_id, reason=f"PayPal reports the refund {status.lower()}.")
    with transaction.atomic():
        refund = _lock_refund(refund_id)
        if refund.status in {RefundStatus.SENT, RefundStatus.FAILED}:
            return refund
        refund.gateway_refund_id = answer.get("id", refund.gateway_refund_id)[:40]
        refund.reference = refund.gateway_refund_id
        if status == "PENDING":
            if refund.status != RefundStatus.PENDING:
                refund_move(refund, RefundStatus.PENDING, fields=["gateway_refund_id", "reference"])
            return refund
        refund.save(update_fields=["gateway_refund_id", "reference"])
        return _refund_mark_sent_locked(refund, reference=refund.reference, actor=None)


def refund_record_external(*, payment_id: int, amount: Money, gateway_refund_id: str, key: str) -> Refund:
    """A refund made in PayPal's own dashboard (we learn of it by webhook): recorded so totals stay true."""
    with transaction.atomic():
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        payment = _lock_payment(payment_id)
        amount = money(amount, payment.captured_amount.currency)
        if amount > payment.refundable:
            amount = payment.refundable
        if amount.amount <= 0:
            raise RefundError(_("Nothing left to refund on this payment."), code=PaymentErrorCode.REFUND_ABOVE_CAPTURED)
        payment.refunded_amount = payment.refunded_amount + amount
        payment.save(update_fields=["refunded_amount"])
        refund = Refund.objects.create(
            order=payment.order,
            payment=payment,
            amount=amount,
            status=RefundStatus.REQUESTED,
            way=RefundWay.PAYPAL,
            reason="Refunded at PayPal.",
            idempotency_key=key,
            gateway_refund_id=gateway_refund_id[:40],
        )
        events.refund_requested(order=payment.order, amount=amount, reason="Refunded at PayPal.")
        return _refund_mark_sent_locked(refund, reference=gateway_refund_id, actor=None)


def refund_fail(*, refund_id: int, reason: str) -> Refund:
    """The gateway refused the refund: its amount is freed so it can be refunded again."""
    with transaction.atomic():
        refund = _lock_refund(refund_id)
        if refund.status in {RefundStatus.SENT, RefundStatus.FAILED}:
            return refund
        payment = refund.payment
        payment.refunded_amount = payment.refunded_amount - refund.amount
        payment.save(update_fields=["refunded_amount"])
        refund.failure_reason = reason[:300]
        refund_move(refund, RefundStatus.FAILED, fields=["failure_reason"])
        events.refund_failed(order=refund.order, amount=refund.amount, reason=reason)
        return refund


def refund_bank_details_submit(*, order_id: int, holder: str, account_number: str, bic: str, actor=None) -> int:
    """The customer gave (or corrected) the account for their COD / bank-transfer refunds not yet sent.

    Returns how many refunds it serves. Each entry or change is an order event, and the customer is
    e-mailed ("if this wasn't you…"): whoever holds the order's link could otherwise redirect a refund
    unnoticed (issue #10).
    """
    with transaction.atomic():
        order = lock_order(order_id)
        refunds = lock_refunds(order_id=order_id, way=RefundWay.BANK_ACCOUNT, status__in=BANK_DETAILS_OPEN)
        ending = account_number[-4:]
        changed = False
        event = None
        for refund in refunds:
            refund.order = order
            had_account = refund.status == RefundStatus.PENDING
            changed = changed or had_account
            refund.account_holder, refund.account_number, refund.bank_bic = holder, account_number, bic
            fields = ["account_holder", "account_number", "bank_bic"]
            if had_account:
                refund.save(update_fields=fields)
            else:
                refund_move(refund, RefundStatus.PENDING, fields=fields)
            event = events.refund_bank_details_received(
                order=order, amount=refund.amount, actor=actor, changed=had_account, account_ending=ending
            )
        if event is not None:
            email_queue(
                to=order.email,
                language=order.language,
                template="refund_bank_details_set",
                context={
                    "order": order,
                    "changed": changed,
                    "account_ending": ending,
                    "holder": holder,
                    "total": sum((r.amount for r in refunds[1:]), refunds[0].amount),
                },
                key=f"refund-bank-details-set:{order.pk}:{event.pk}",
            )
        return len(refunds)


def refund_mark_sent(*, refund_id: int, reference: str, actor) -> Refund:
    """Staff made the bank transfer (or the card refund at the terminal) and record its reference."""
    reference = reference.strip()
    if not reference:
        raise RefundError(_("Enter the transfer's reference."), code=PaymentErrorCode.REFERENCE_MISSING)
    with transaction.atomic():
        refund = _lock_refund(refund_id)
        if refund.status == RefundStatus.SENT:
            return refund
        if refund.way == RefundWay.PAYPAL:
            raise RefundError(
                _("PayPal refunds are confirmed by PayPal, not recorded by hand."),
                code=PaymentErrorCode.REFUND_NOT_BY_HAND,
            )
        if refund.status != RefundStatus.PENDING:
            raise RefundError(
                _("The customer has not given a bank account for this refund yet."),
                code=PaymentErrorCode.REFUND_NO_ACCOUNT,
            )
        return _refund_mark_sent_locked(refund, reference=reference, actor=actor)


def _refund_mark_sent_locked(refund: Refund, *, reference: str, actor) -> Refund:
    """Order, payment and refund locked by the caller (in that order)."""
    refund.reference, refund.sent_at = reference[:100], timezone.now()
    refund_move(refund, RefundStatus.SENT, actor=actor, fields=["reference", "sent_at"])
    payment = refund.payment
    sent = sum((r.amount.amount for r in payment.refunds.filter(status=RefundStatus.SENT)), Decimal("0"))
    target = PaymentStatus.REFUNDED if sent >= payment.captured_amount.amount else PaymentStatus.PARTIALLY_REFUNDED
    if payment.status != PaymentStatus.REVIEW and payment.status != target:  # review stays for staff to see
        payment_move(payment, target)
    order = refund.order
    events.refund_sent(order=order, amount=refund.amount, reference=refund.reference, actor=actor)
    # PAY-DISCOUNTS: points earned on the order go back in the share refunded (bonus account locked
    # after the order, payment and refund: shop.locks).
    refunded = Refund.objects.filter(order_id=order.pk, status=RefundStatus.SENT).aggregate(s=Sum("amount"))["s"]
    bonus.bonus_take_back_for_refunds(order=order, refunded=refunded or Decimal("0"))
    email_queue(
        to=order.email,
        language=order.language,
        template="refund_sent",
        context={"order": order, "refund": refund, "order_url": order_link_for_email(order)},
        key=f"refund-sent:{refund.pk}",
    )
    return refund


# --- The sweep -------------------------------------------------------------------------------
def refunds_resend_stuck(*, margin_seconds: int = SWEEP_MARGIN_SECONDS, limit: int = 100) -> int:
    """The sweep: PayPal refunds still *requested* past the margin (the process died after the commit,
    the broker was down, PayPal was down through every retry) are queued again, same request id."""
    pending = Refund.objects.filter(
        status=RefundStatus.REQUESTED,
        way=RefundWay.PAYPAL,
        created_at__lte=timezone.now() - timedelta(seconds=margin_seconds),
    ).order_by("pk")
    return requeue(pending, SEND_TASK, limit=limit)
