"""Issue #10, problem 9: a visitor's first add-to-cart with too large a quantity shows the stock message."""

import pytest
from django.urls import reverse

from shop.models import Cart
from tests.factories import ProductFactory


@pytest.mark.django_db
def test_security_first_add_to_cart_over_stock_shows_the_stock_message_not_session_interrupted(client):
    product = ProductFactory(stock=2, name="Sturman 8x42")
    assert not client.cookies.get("sessionid")

    response = client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": "5"}, follow=True)

    assert response.status_code == 200
    assert "Not added: Only 2 of “Sturman 8x42” in stock." in response.content.decode()
    assert not Cart.objects.exists()
    # The same browser can go on: its session survived the refused addition.
    again = client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": "1"}, follow=True)
    assert again.status_code == 200
    assert Cart.objects.get().lines.get().quantity == 1
