from django.urls import path

from . import price_views

app_name = "price"
urlpatterns = [
    # ORD-PRICE-ERROR: the customer accepts the corrected price or cancels.
    path("<str:number>/", price_views.price_answer, name="answer"),
]
