"""The customer's case pages, under /orders/cases/ (namespace ``cases``)."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:number>/report/<slug:kind>/", views.claim, name="claim"),
]
