"""Everything that writes cases. One function per business action.

``cases`` (open, accept, decline, refund, replacement order, resolve), ``customer`` (what the customer
starts from the order page: withdrawal and claims), ``returns`` (goods coming back: received, damaged,
restocked or written off), ``receivers`` (the hooks through which cancellations and parts due back
open their case), ``desk`` (the refund desk's reminder). Callers use the names re-exported here.
"""

from ._common import CaseError, CaseErrorCode
from .cases import (
    CaseOpening,
    case_accept,
    case_charge_kept_goods,
    case_decline,
    case_open,
    case_refund,
    case_refund_start,
    case_refunded,
    case_replacement_order,
    case_resolve,
    case_withdraw,
    cases_open,
)
from .customer import REMEDIES, claim_report, withdrawal_request
from .desk import refunds_due_digest_send
from .receivers import cancelled_order_refund, cancelled_orders_refund, due_amount_refund, due_amounts_refund
from .returns import case_goods_receive, case_goods_settle

__all__ = [
    "REMEDIES",
    "CaseOpening",
    "CaseError",
    "CaseErrorCode",
    "cancelled_order_refund",
    "cancelled_orders_refund",
    "case_accept",
    "case_charge_kept_goods",
    "case_decline",
    "case_goods_receive",
    "case_goods_settle",
    "case_open",
    "case_refund",
    "case_refund_start",
    "case_refunded",
    "case_replacement_order",
    "case_resolve",
    "case_withdraw",
    "cases_open",
    "claim_report",
    "due_amount_refund",
    "due_amounts_refund",
    "refunds_due_digest_send",
    "withdrawal_request",
]
