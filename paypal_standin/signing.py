"""Webhook signatures of the PayPal stand-in.

PayPal signs each webhook delivery over the string
``<transmission_id>|<transmission_time>|<webhook_id>|<crc32 of the body>`` (crc32 as an unsigned
decimal) and puts the signature in the ``PAYPAL-TRANSMISSION-SIG`` header; the merchant asks
``POST /v1/notifications/verify-webhook-signature`` whether a delivery is genuine.

The stand-in keeps that signed-string shape but signs with HMAC-SHA256 under a secret of its own
instead of PayPal's RSA certificate, so only the stand-in itself can tell a genuine delivery from a
forged or altered one -- exactly the position the shop is in against PayPal.

The verify endpoint receives the event as parsed JSON, not as the raw bytes that were delivered, so
the crc32 is taken over a canonical serialisation (sorted keys, no spaces). The stand-in also
delivers exactly that serialisation, so the body a receiver sees is the body that was signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import zlib

AUTH_ALGO = "HMACSHA256"


def canonical_body(event: dict) -> bytes:
    """The bytes that are delivered and signed for ``event``."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_string(*, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> str:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}"


def sign(*, secret: bytes, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> str:
    message = signed_string(
        transmission_id=transmission_id, transmission_time=transmission_time, webhook_id=webhook_id, body=body
    )
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def verify(
    *, secret: bytes, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes, signature: str
) -> bool:
    expected = sign(
        secret=secret,
        transmission_id=transmission_id,
        transmission_time=transmission_time,
        webhook_id=webhook_id,
        body=body,
    )
    return hmac.compare_digest(expected, signature or "")
