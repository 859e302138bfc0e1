"""The customer's case pages, under /orders/cases/ (namespace ``cases``)."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:number>/report/<slug:kind>/", views.claim, name="claim"),
    path("<str:number>/<int:case_id>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
]
