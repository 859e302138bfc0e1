"""The cart: reads (selectors) and writes (services) in one place.

A visitor's cart is a database row tied to their session; on login it is tied to the user and
merged with the cart the user already had. Prices shown are always the products' current prices
(ORD-PRICE-LOCK happens at confirmation, in orders).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import ngettext
from djmoney.money import Money

from .locks import lock_cart, lock_cart_line
from .models import Cart, CartLine, Product

SESSION_KEY = "cart_id"


class CartError(Exception):
    """Bad input for the cart; the message is shown to the customer and nothing changed."""


@dataclass(frozen=True)
class CartSummary:
    count: int
    total: Money

    @property
    def label(self) -> str:
        return ngettext("%(count)d item", "%(count)d items", self.count) % {"count": self.count}


# --- reads ------------------------------------------------------------------------------------
def get_cart(request, *, create: bool = False) -> Cart | None:
    """The request's cart: the user's when logged in, else the session's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        cart = Cart.objects.filter(user=user).order_by("-updated_at").first()
        if cart is None and create:
            cart = Cart.objects.create(user=user)
        return cart
    cart_id = request.session.get(SESSION_KEY)
    cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first() if cart_id else None
    if cart is None and create:
        session_ensure(request)
        cart = Cart.objects.create(session_key=request.session.session_key)
        request.session[SESSION_KEY] = cart.pk
    return cart


def cart_lines(cart: Cart | None, *, with_pictures: bool = False) -> list[CartLine]:
    """Lines with their products in one query (and their pictures in one more, for pages that show them)."""
    if cart is None:
        return []
    lines = cart.lines.select_related("product", "product__category").order_by("added_at", "pk")
    if with_pictures:
        lines = lines.prefetch_related("product__images")
    return list(lines)


def lines_total(lines: list[CartLine]) -> Money:
    total = sum((line.product.price.amount * line.quantity for line in lines), Decimal("0"))
    currency = lines[0].product.price.currency if lines else settings.DEFAULT_CURRENCY
    return Money(total, currency)


def request_cart(request) -> Cart | None:
    """The request's cart (``get_cart``), read once per request; cart writes forget it (``_forget_lines``)."""
    if "_cart" not in request.__dict__:
        request._cart = get_cart(request)
    return request._cart


def request_cart_lines(request, *, with_pictures: bool = False) -> list[CartLine]:
    """The request's cart lines, read once per request (issue #14: the cart page, the checkout steps
    and the header's summary each read the cart and its lines). Cart writes forget them (``_forget_lines``).
    ``with_pictures`` after a read without them reads only the pictures."""
    lines = getattr(request, "_cart_lines", None)
    if lines is None:
        lines = request._cart_lines = cart_lines(request_cart(request), with_pictures=with_pictures)
    elif with_pictures:
        prefetch_related_objects(lines, "product__images")
    return lines


def _forget_lines(request) -> None:
    request.__dict__.pop("_cart_lines", None)
    request.__dict__.pop("_cart", None)


def cart_summary(request) -> CartSummary:
    lines = request_cart_lines(request)
    return CartSummary(count=sum(line.quantity for line in lines), total=lines_total(lines))


def cart_fingerprint(lines: list[CartLine]) -> str:
    """A hash of the cart's content (products, quantities, current prices).

    Checkout binds its confirmation token to it: the same content confirms to the same order,
    and a change of content or price is noticed before an order is created (ORD-PRICE-LOCK).
    """
    raw = "|".join(
        f"{line.product_id}:{line.quantity}:{line.product.price.amount}:{line.product.price.currency}"
        for line in sorted(lines, key=lambda item: item.product_id)
    )
    return hashlib.sha256(raw.encode()).hexdigest()


# --- writes -----------------------------------------------------------------------------------
def session_ensure(request) -> None:
    """Give a first-time visitor's session its row now, outside any transaction.

    Created inside the cart's transaction, the session row would be rolled back with it when the
    addition is refused (too many, out of stock), and the response's session save would then fail
    with ``SessionInterrupted`` (a 400 page instead of the stock message).
    """
    if not request.session.session_key:
        request.session.save()


def _sellable(product_id) -> Product:
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise CartError("That product does not exist.")
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise CartError("That product does not exist.")
    if not product.is_active:
        raise CartError(f"“{product.name}” is no longer sold.")
    return product


def parse_quantity(raw) -> int:
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise CartError("Quantity must be a whole number.")
    if quantity < 1:
        raise CartError("Quantity must be at least 1.")
    return quantity


def _check_stock(product: Product, quantity: int) -> None:
    if product.stock <= 0:
        raise CartError(f"“{product.name}” is out of stock.")
    if quantity > product.stock:
        raise CartError(f"Only {product.stock} of “{product.name}” in stock.")


def cart_add(*, request, product_id, quantity) -> CartLine:
    """Add ``quantity`` of a product (added to what the cart already holds)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        session_ensure(request)
    _forget_lines(request)
    with transaction.atomic():
        return _cart_add(request=request, product_id=product_id, quantity=quantity)


def _cart_add(*, request, product_id, quantity) -> CartLine:
    product = _sellable(product_id)
    quantity = parse_quantity(quantity)
    cart = get_cart(request, create=True)
    line = lock_cart_line(cart=cart, product=product)
    new_quantity = quantity + (line.quantity if line else 0)
    _check_stock(product, new_quantity)
    if line is None:
        line = CartLine.objects.create(cart=cart, product=product, quantity=new_quantity)
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_set_quantity(*, request, product_id, quantity) -> CartLine:
    _forget_lines(request)
    product = _sellable(product_id)
    quantity = parse_quantity(quantity)
    cart = get_cart(request)
    line = lock_cart_line(cart=cart, product=product) if cart else None
    if line is None:
        raise CartError(f"“{product.name}” is not in your cart.")
    _check_stock(product, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def cart_remove(*, request, product_id) -> None:
    _forget_lines(request)
    cart = get_cart(request)
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise CartError("That product does not exist.")
    deleted = CartLine.objects.filter(cart=cart, product_id=product_id).delete()[0] if cart else 0
    if not deleted:
        raise CartError("That product is not in your cart.")


@transaction.atomic
def cart_merge_on_login(*, session_cart_id: int | None, user) -> Cart | None:
    """Tie the visitor's session cart to the user, merging it into a cart the user already had.

    Quantities of a product in both carts are added, capped at the stock.
    """
    session_cart = lock_cart(pk=session_cart_id, anonymous=True) if session_cart_id else None
    user_cart = lock_cart(user=user)
    if session_cart is None:
        return user_cart
    if user_cart is None:
        session_cart.user, session_cart.session_key = user, None
        session_cart.save(update_fields=["user", "session_key", "updated_at"])
        return session_cart
    existing = {line.product_id: line for line in user_cart.lines.select_related("product")}
    for line in session_cart.lines.select_related("product"):
        if line.product_id in existing:
            target = existing[line.product_id]
            target.quantity = max(1, min(target.quantity + line.quantity, line.product.stock or 1))
            target.save(update_fields=["quantity"])
        else:
            quantity = max(1, min(line.quantity, line.product.stock or 1))
            CartLine.objects.create(cart=user_cart, product=line.product, quantity=quantity)
    session_cart.delete()
    user_cart.save(update_fields=["updated_at"])
    return user_cart
