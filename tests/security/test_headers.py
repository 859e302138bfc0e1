"""Issue #10, problem 8: every page carries a Content-Security-Policy that blocks inline script, and a
Permissions-Policy. (The browser tests in tests/e2e run the shop and the admin with them on.)"""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("url", ["/", "/cart/", "/accounts/login/", "/admin/login/", "/admin/"])
def test_security_every_page_has_a_csp_blocking_inline_script_and_a_permissions_policy(client, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(url, follow=True)

    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_security_an_injected_inline_script_would_not_run(client):
    """The page a search term is echoed on: even if it were rendered raw, CSP forbids inline script."""
    response = client.get(reverse("shop:product_list"), {"q": "<script>alert(1)</script>"})

    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "'unsafe-inline'" not in _directives(response["Content-Security-Policy"])["script-src"]
