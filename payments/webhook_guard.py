"""What the PayPal webhook endpoint checks before it believes, stores or forwards anything.

Anyone on the internet can post to the webhook URL, so before PayPal is asked to verify an event:
the body is at most ``PAYPAL_WEBHOOK_MAX_BYTES`` (413 above), it is strict JSON (no NaN/Infinity,
at most ``MAX_DEPTH`` levels of nesting; 400 otherwise), and one source address sends at most
``PAYPAL_WEBHOOK_RATE_PER_MINUTE`` requests a minute (429 above; PayPal retries a refused delivery
for three days, so a genuine event delayed this way still arrives).
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.cache import cache

#: PayPal's events nest about six levels deep.
MAX_DEPTH = 32


class BodyTooLarge(Exception):
    pass


class MalformedEvent(ValueError):
    pass


def read_body(request) -> bytes:
    """The request body, refusing before reading it all when it is larger than the limit."""
    limit = settings.PAYPAL_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge
    raw = request.read(limit + 1)  # also bounds a body sent without a (truthful) Content-Length
    if len(raw) > limit:
        raise BodyTooLarge
    return raw


def _depth(raw: str) -> int:
    """Deepest nesting of objects and arrays, strings skipped: checked before the parser recurses."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise MalformedEvent(f"{name} is not JSON.")


def parse_event(raw: bytes) -> dict:
    """Strict JSON object with an id and an event type, or ``MalformedEvent``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEvent("The body is not UTF-8.")
    if _depth(text) > MAX_DEPTH:
        raise MalformedEvent("Nested too deeply.")
    try:
        event = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent(f"malformed JSON: {exc}")
    if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
        raise MalformedEvent("Not a PayPal event.")
    if not isinstance(event["id"], str) or not isinstance(event["event_type"], str):
        raise MalformedEvent("Not a PayPal event.")
    return event


def client_address(request) -> str:
    """The sender's address: REMOTE_ADDR, or the client's entry in X-Forwarded-For behind trusted proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(request) -> bool:
    """True when this address has already sent its share of requests in the current minute."""
    limit = settings.PAYPAL_WEBHOOK_RATE_PER_MINUTE
    if limit <= 0:
        return False
    key = f"paypal-webhook-rate:{client_address(request)}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=120):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        return False
    return count > limit
