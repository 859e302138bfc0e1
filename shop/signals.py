"""Signal receivers of the shop app, connected in ``ShopConfig.ready()``."""

from __future__ import annotations

from .cart import SESSION_KEY, cart_merge_on_login


def merge_cart_on_login(sender, request=None, user=None, **kwargs) -> None:
    """``user_logged_in``: the visitor's session cart joins the user's cart.

    Django's ``login()`` keeps the session's data (it only cycles the key), so the cart id the
    visitor shopped with is still there.
    """
    if request is None or user is None or not hasattr(request, "session"):
        return
    cart_merge_on_login(session_cart_id=request.session.pop(SESSION_KEY, None), user=user)
