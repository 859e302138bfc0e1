"""Staff pages of fulfilment. Thin: every change is a call to one service in ``shipping.services``."""

from __future__ import annotations

from django.contrib import admin

from .models import FulfilmentPartner


@admin.register(FulfilmentPartner)
class FulfilmentPartnerAdmin(admin.ModelAdmin):
    """SHIP-SUBCONTRACTOR: who is told about each ready order; one is the default."""

    list_display = ["name", "email", "endpoint", "is_default", "is_active"]
    list_filter = ["is_default", "is_active"]
    search_fields = ["name", "email"]
