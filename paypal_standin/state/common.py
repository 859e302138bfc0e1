"""What every resource of the stand-in uses: the answer types and PayPal-style ids and timestamps."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime

ID_ALPHABET = string.ascii_uppercase + string.digits


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(length: int = 17) -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


@dataclass
class Delivery:
    """A webhook event to deliver (``copies`` transmissions of the same event)."""

    event: dict
    copies: int = 1
    concurrent: bool = False
    bad_signature: bool = False


@dataclass
class Response:
    status: int
    body: dict | None
    hold: float = 0.0  # seconds to hold the answer back (the "timeout" fault)
    deliveries: list[Delivery] = field(default_factory=list)
