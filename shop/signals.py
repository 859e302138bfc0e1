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


def picture_replaced(sender, instance=None, **kwargs) -> None:
    """``pre_save`` of ProductImage: a new file replaces the old one, so the old file and its thumbnails go."""
    from .pictures import file_delete_after_commit

    if instance is None or instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).values_list("image", flat=True).first()
    if old and old != instance.image.name:
        file_delete_after_commit(old, instance.image.storage)


def picture_deleted(sender, instance=None, **kwargs) -> None:
    """``post_delete`` of ProductImage: its file and thumbnails go too."""
    from .pictures import file_delete_after_commit

    if instance is not None and instance.image:
        file_delete_after_commit(instance.image.name, instance.image.storage)
