from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("start/<str:number>/", views.start, name="start"),
    path("paypal/return/", views.paypal_return, name="paypal_return"),
    path("paypal/cancel/", views.paypal_cancel, name="paypal_cancel"),
    path("paypal/webhook/", views.paypal_webhook, name="paypal_webhook"),
    path("refund-account/<str:number>/", views.refund_account, name="refund_account"),
]
