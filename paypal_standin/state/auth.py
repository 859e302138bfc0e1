"""OAuth: ``POST /v1/oauth2/token`` issues bearer tokens; every PayPal API call checks one."""

from __future__ import annotations

import secrets
import time
from base64 import b64decode

from .common import Response, now_iso
from .errors import ApiError, paypal_error


class AuthMixin:
    """Client credentials and bearer tokens of :class:`StandinState`."""

    def issue_token(self, *, authorization: str | None, form: dict) -> Response:
        """``POST /v1/oauth2/token`` (HTTP Basic client id/secret, ``grant_type=client_credentials``)."""
        with self.lock:
            client_id, secret = _basic_credentials(authorization)
            if client_id != self.client_id or secret != self.client_secret:
                raise ApiError(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
            if form.get("grant_type") != "client_credentials":
                raise ApiError(
                    400,
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "Grant Type is NULL"
                        if not form.get("grant_type")
                        else f"Grant Type {form['grant_type']!r} is not supported",
                    },
                )
            kind = self._take_fault("token")
            if kind == "500":
                raise ApiError(
                    500, {"error": "server_error", "error_description": "An internal server error occurred."}
                )
            token = "A21AA" + secrets.token_urlsafe(48)
            self.tokens[token] = time.time() + self.token_ttl
            body = {
                "scope": "https://uri.paypal.com/services/payments/payment "
                "https://uri.paypal.com/services/payments/refund "
                "https://uri.paypal.com/services/payments/orders/client_sdk_orders_api",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": self.app_id,
                "expires_in": self.token_ttl,
                "nonce": f"{now_iso()}{secrets.token_hex(8)}",
            }
            return Response(200, body, hold=self._hold(kind))

    def check_bearer(self, authorization: str | None, *, api: str = "orders") -> None:
        scheme, _, token = (authorization or "").partition(" ")
        with self.lock:
            expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expiry is None or expiry < time.time():
                raise paypal_error(401, api=api)


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = b64decode(encoded.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return client_id, secret
