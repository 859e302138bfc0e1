"""``django.contrib.admin`` with the shop's admin site (second factor for money and personal numbers)."""

from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    default_site = "shop.admin_site.ShopAdminSite"
