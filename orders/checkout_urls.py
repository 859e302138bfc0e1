"""Checkout steps, under /checkout/ (namespace ``checkout``)."""

from django.urls import path

from . import views

app_name = "checkout"
urlpatterns = [
    path("", views.checkout_start, name="start"),
    path("delivery/", views.checkout_delivery, name="delivery"),
    path("payment/", views.checkout_payment, name="payment"),
    path("review/", views.checkout_review, name="review"),
    path("confirm/", views.checkout_confirm, name="confirm"),
]
