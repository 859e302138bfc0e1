"""Catalogue content in Russian and English (django-modeltranslation): ``name_ru``/``name_en`` columns next to
each field, edited side by side in the admin; ``name`` reads the active language's, falling back to the other
(settings.MODELTRANSLATION_FALLBACK_LANGUAGES)."""

from modeltranslation.translator import TranslationOptions, register

from .models import Category, DeliveryMethod, Product, Region


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Product)
class ProductTranslation(TranslationOptions):
    fields = ("name", "description")


@register(DeliveryMethod)
class DeliveryMethodTranslation(TranslationOptions):
    fields = ("name", "carrier")


@register(Region)
class RegionTranslation(TranslationOptions):
    fields = ("name",)
