"""The shop's own 404 and 500 pages, and its favicon."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_404_page_is_the_shops_own_with_a_way_on(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in page
    assert 'href="/"' in page and 'role="search"' in page
    assert '<link rel="icon"' in page


def test_500_page_is_the_shops_own_and_needs_no_database(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.shop.error_urls"
    response = Client(raise_request_exception=False).get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "so you do not order twice" in page


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert reverse("favicon") == "/favicon.ico"
