"""Everything that writes payments and refunds. One function per business action.

``paypal`` (start, capture, record, reconcile), ``webhooks``, ``offline`` (bank transfer, payment at
the door, fraud review), ``refunds`` and ``trackers`` (a shipped parcel's tracking number at PayPal);
``_common`` holds the errors and the Payment lock. Callers
use the names re-exported here: ``services.refund_issue(...)``. ``services.paypal`` is the module of
PayPal payment services, not the PayPal client (that is ``payments.paypal``).

Concurrency: PayPal's browser return, its webhooks (possibly repeated, possibly concurrent) and the
periodic reconciliation all end in ``payment_capture_record``, which locks the Payment row and does
its work once (PAY-PAYPAL). Refunds lock the Payment row too, and the database refuses a refunded
total above the captured one (PAY-REFUND-SAME-WAY). Lock order is always Payment, then Order.

Calls to PayPal happen outside any transaction holding locks, with a PayPal-Request-Id derived from
the order and the operation, so a retry after a timeout repeats the same operation at PayPal.
"""

from ._common import (
    PaymentError,
    RefundError,
)
from .offline import (
    fraud_review_approve,
    fraud_review_reject,
    payment_record_at_door,
    payment_record_bank_transfer,
)
from .paypal import (
    PAYPAL_APPROVAL_WINDOW,
    payment_approved_record,
    payment_capture_record,
    payment_paypal_failed,
    payment_reconcile,
    payments_reconcile_stale,
    paypal_order_record,
    paypal_payment_capture,
    paypal_payment_start,
)
from .refunds import (
    RefundRequest,
    refund_bank_details_submit,
    refund_fail,
    refund_issue,
    refund_mark_sent,
    refund_paypal_record,
    refund_record_external,
    refund_send,
    refunds_issue,
    refunds_resend_stuck,
)
from .trackers import (
    paypal_tracker_owe,
    paypal_tracker_send,
    paypal_trackers_resend_stuck,
)
from .webhooks import (
    webhook_event_process,
    webhook_event_reject,
)

__all__ = [
    "RefundRequest",
    "refunds_issue",
    "PAYPAL_APPROVAL_WINDOW",
    "PaymentError",
    "RefundError",
    "fraud_review_approve",
    "fraud_review_reject",
    "payment_approved_record",
    "payment_capture_record",
    "payment_paypal_failed",
    "payment_reconcile",
    "payment_record_at_door",
    "payment_record_bank_transfer",
    "payments_reconcile_stale",
    "paypal_order_record",
    "paypal_payment_capture",
    "paypal_payment_start",
    "paypal_tracker_owe",
    "paypal_tracker_send",
    "paypal_trackers_resend_stuck",
    "refund_bank_details_submit",
    "refund_fail",
    "refund_issue",
    "refund_mark_sent",
    "refund_paypal_record",
    "refund_record_external",
    "refund_send",
    "refunds_resend_stuck",
    "webhook_event_process",
    "webhook_event_reject",
]
