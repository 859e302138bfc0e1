"""Cases refunding at once on real PostgreSQL: however a case is clicked or retried, and however many cases
of one order refund together, no more goes back than was paid (REF-SLA, PAY-REFUND-SAME-WAY).

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> .venv/bin/pytest tests/integration``.
"""

from decimal import Decimal

import pytest

from payments.models import Payment, Refund
from refunds import services
from refunds.models import Case, CaseKind
from tests.concurrency_support import race
from tests.payments.payment_support import cod_order_paid_at_door, rub

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _paid_at_door():
    return cod_order_paid_at_door(lines=((Decimal("1000.00"), 5),))  # 5350.00 captured


def _refunded(order) -> Decimal:
    return sum((r.amount.amount for r in Refund.objects.filter(order=order)), Decimal("0"))


def test_ref_sla_one_case_refunded_ten_times_at_once_refunds_its_value_once():
    """REF-SLA: ten clicks on "Issue refund" for one case at once: one refund of the case's value."""
    order = _paid_at_door()
    line = order.lines.get()
    case = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 2}, remedy="refund")
    results = race(10, lambda i: services.case_refund(case_id=case.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r.pk for r in results} == {Refund.objects.get(order=order).pk}
    assert _refunded(order) == Decimal("2000.00")


def test_pay_refund_same_way_ten_cases_of_one_order_refunding_at_once_never_exceed_what_was_paid():
    """PAY-REFUND-SAME-WAY: ten cases worth 1000 each on a 5350 order, refunded at once: five are paid,
    the others refused with a clear code; the total never passes what was captured."""
    order = _paid_at_door()
    cases = [
        services.case_open(
            order_id=order.pk, kind=CaseKind.WRONG_ITEM, amount=rub("1000.00"), remedy="refund", key=f"c{i}"
        )
        for i in range(10)
    ]
    results = race(10, lambda i: services.case_refund(case_id=cases[i].pk, amount=rub("1000.00")))
    made = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, services.CaseError)]
    assert len(made) == 5 and len(refused) == 5, results
    assert {e.code for e in refused} == {"refund_above_captured"}
    payment = Payment.objects.get(order=order)
    assert _refunded(order) == Decimal("5000.00") <= payment.captured_amount.amount
    assert payment.refunded_amount == rub("5000.00")
    assert Case.objects.filter(order=order, refunds__isnull=False).count() == 5
