"""PAY-DISCOUNTS: the overlap rule and the split over lines, on the engine alone (no database).

A property test with hypothesis over random carts and discounts: every discount is split over the
lines so that the shares add up to the discount exactly — never a kopeck lost or invented — and no
line is discounted below zero.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from orders.discounts import PricedLine, allocate, discounts_apply
from orders.models import Discount
from shop.models import Policy

NOW = timezone.now()


def _discount(pk, *, kind="percent", value="10", target="order", products=(), categories=(), **extra) -> Discount:
    d = Discount(
        pk=pk,
        name=f"D{pk}",
        kind=kind,
        value=Decimal(value),
        target=target,
        starts_at=NOW - timedelta(days=1),
        **extra,
    )
    d._product_ids, d._category_ids = set(products), set(categories)
    return d


def _apply(lines, discounts, *, delivery="350.00", points=0, **kwargs):
    return discounts_apply(
        lines=lines,
        currency="RUB",
        delivery_price=Decimal(delivery),
        delivery_method_id=1,
        discounts=discounts,
        usage={},
        delivery_names={},
        policy=Policy(bonus_spend_max_percent=Decimal("30")),
        points=points,
        now=NOW,
        **kwargs,
    )


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
cart = st.lists(st.tuples(prices, st.integers(min_value=1, max_value=7), st.integers(1, 4)), min_size=1, max_size=8)
discount_specs = st.lists(
    st.tuples(
        st.sampled_from(["percent", "fixed"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
        st.sampled_from(["order", "items", "delivery"]),
        st.integers(1, 4),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(
    cart=cart,
    specs=discount_specs,
    delivery=st.decimals(min_value=Decimal("0"), max_value=Decimal("3000"), places=2),
    points=st.integers(0, 5000),
)
def test_pay_discounts_split_never_loses_or_invents_a_kopeck(cart, specs, delivery, points):
    """PAY-DISCOUNTS: the lines' shares add up to the discount lines exactly; no line goes below zero."""
    lines = [
        PricedLine(key=i + 1, product_id=i + 1, category_id=cat, name=f"P{i}", unit_price=price, quantity=qty)
        for i, (price, qty, cat) in enumerate(cart)
    ]
    discounts = [
        _discount(n + 1, kind=kind, value=value * (100 if kind == "fixed" else 1), target=target, categories=[cat])
        for n, (kind, value, target, cat) in enumerate(specs)
    ]
    probe = _apply(lines, discounts, delivery=str(delivery))
    result = _apply(lines, discounts, delivery=str(delivery), points=min(points, probe.points_max))

    applied_goods = sum((a.amount for a in result.applied if a.target != "delivery"), Decimal("0"))
    assert sum(result.line_discounts.values(), Decimal("0")) == applied_goods
    assert result.total == applied_goods + result.delivery_discount
    assert 0 <= result.delivery_discount <= delivery
    for line in lines:
        share = result.line_discounts[line.key]
        assert Decimal("0") <= share <= line.amount
        assert share == share.quantize(Decimal("0.01"))
    # The overlap rule: one order-level discount, one delivery discount, at most one per line.
    assert sum(1 for a in result.applied if a.target == "order" and a.discount_id) <= 1
    assert sum(1 for a in result.applied if a.target == "delivery") <= 1


@given(
    amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=2),
    weights=st.lists(st.decimals(min_value=Decimal("0"), max_value=Decimal("50000"), places=2), min_size=1),
)
def test_pay_discounts_allocate_is_exact_in_minor_units(amount, weights):
    table = dict(enumerate(weights))
    total = sum(weights, Decimal("0"))
    shares = allocate(min(amount, total), table, "RUB")
    assert sum(shares.values(), Decimal("0")) == (min(amount, total) if total > 0 else 0)
    assert all(Decimal("0") <= shares[k] <= table[k] for k in table)


def test_pay_discounts_overlap_best_line_discount_then_best_order_discount():
    """PAY-DISCOUNTS overlap rule: the better of two item discounts on a line, never both; one order discount."""
    lens = PricedLine(key=1, product_id=10, category_id=1, name="Lens", unit_price=Decimal("1000.00"), quantity=2)
    bag = PricedLine(key=2, product_id=20, category_id=2, name="Bag", unit_price=Decimal("500.00"), quantity=1)
    discounts = [
        _discount(1, value="10", target="items", products=[10]),  # 200 off the lens line
        _discount(2, kind="fixed", value="150", target="items", categories=[1]),  # 300 off the lens line: wins
        _discount(3, value="5", target="order"),
        _discount(4, value="10", target="order"),  # the better order discount
    ]
    result = _apply([lens, bag], discounts)
    assert [(a.discount_id, a.amount) for a in result.applied] == [(2, Decimal("300.00")), (4, Decimal("220.00"))]
    assert result.line_discounts == {1: Decimal("300.00") + Decimal("170.00"), 2: Decimal("50.00")}


def test_pay_discounts_method_promotion_is_an_offer_until_the_method_is_chosen():
    lens = PricedLine(key=1, product_id=10, category_id=1, name="Lens", unit_price=Decimal("1000.00"), quantity=1)
    promo = _discount(1, value="5", payment_method="paypal", ends_at=NOW + timedelta(days=20))
    offered = _apply([lens], [promo], payment_method="bank_transfer")
    assert offered.applied == [] and offered.offers[0].text.startswith("Pay with PayPal to save 5 % until ")
    chosen = _apply([lens], [promo], payment_method="paypal")
    assert [a.amount for a in chosen.applied] == [Decimal("50.00")] and chosen.offers == []
