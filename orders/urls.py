"""The customer's order pages, under /orders/ (namespace ``orders``). Every page is owner-only (404)."""

from django.urls import path

from . import track, views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("track/", track.track, name="track"),
    path("points/", views.bonus_points, name="points"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/placed/", views.order_placed, name="placed"),
    path("<str:number>/invoice.pdf", views.order_invoice, name="invoice"),
    path("<str:number>/again/", views.order_again, name="again"),
]
