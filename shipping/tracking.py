"""Carriers' tracking numbers (SHIP-METHODS): the format each carrier uses, and its PayPal carrier code.

A tracking number a staff member mistypes sends the customer to a page that finds nothing, so
``shipment_create`` checks it against the carrier's published format before anything is saved.
The carrier is the delivery method's ``carrier`` (free text staff type in the admin); it is matched
case-insensitively by name. A carrier not in the table takes any non-empty number.

Formats and where they come from:

* **DHL Express**: the air waybill number is 10 digits (DHL's tracking help,
  https://www.dhl.com/global-en/home/tracking.html: "DHL Express: 10 digits, e.g. 1234567890").
  Pieces labelled with ISO 15459 licence plates (JJD…) are tracked by the waybill, which staff enter.
* **UPS**: "1Z" followed by 16 letters or digits (6 shipper account, 2 service, 7 package, 1 check
  character), 18 in all. UPS's tracking help lists the format "1Z9999999999999999"
  (https://www.ups.com/content/us/en/tracking/help/tracking/tnh.html).
* **Russian Post**: a domestic item has a 14-digit number (6-digit post code of the accepting
  office, 2-digit month, 5-digit serial, check digit: "Почтовый идентификатор",
  https://ru.wikipedia.org/wiki/Почтовый_идентификатор); an
  international item has the UPU S10 identifier, 2 letters + 8 digits + a check digit + the 2-letter
  country code (UPU standard S10, https://www.upu.int/en/Postal-Solutions/Programmes-Services/Standards;
  summarised at https://en.wikipedia.org/wiki/S10_(UPU_standard)). The S10 check digit is verified
  (weights 8 6 4 2 3 5 9 7, C = 11 − S mod 11, 10 → 0, 11 → 5), so a swapped digit is caught too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

_S10 = re.compile(r"[A-Z]{2}(\d{8})(\d)[A-Z]{2}")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _s10_valid(number: str) -> bool:
    match = _S10.fullmatch(number)
    return bool(match) and s10_check_digit(match.group(1)) == int(match.group(2))


@dataclass(frozen=True)
class Carrier:
    name: str
    #: PayPal Orders v2 ``shipment_carrier`` value (the spec's enum).
    paypal_code: str
    #: What staff are told when a number does not fit (marked for translation; translated when told).
    expected: str
    patterns: tuple[re.Pattern, ...] = ()
    s10: bool = False

    def accepts(self, number: str) -> bool:
        return any(p.fullmatch(number) for p in self.patterns) or (self.s10 and _s10_valid(number))


DHL = Carrier("DHL Express", "DHL", gettext_noop("10 digits, e.g. 1234567890"), (re.compile(r"\d{10}"),))
UPS = Carrier(
    "UPS",
    "UPS",
    gettext_noop("1Z followed by 16 letters or digits, e.g. 1Z999AA10123456784"),
    (re.compile(r"1Z[0-9A-Z]{16}"),),
)
RUSSIAN_POST = Carrier(
    "Russian Post",
    "RUSSIAN_POST",
    gettext_noop("14 digits (domestic) or 2 letters, 9 digits and 2 letters (international, e.g. RA473124829RU)"),
    (re.compile(r"\d{14}"),),
    s10=True,
)

#: Carrier names as staff type them on the delivery method (compared case-insensitively).
CARRIERS: dict[str, Carrier] = {
    "dhl": DHL,
    "dhl express": DHL,
    "ups": UPS,
    "russian post": RUSSIAN_POST,
    "pochta rossii": RUSSIAN_POST,
    "почта россии": RUSSIAN_POST,
}


def carrier_for(name: str) -> Carrier | None:
    return CARRIERS.get(" ".join(name.split()).casefold())


def normalise(number: str) -> str:
    """Numbers are printed in groups ("1Z 999 AA1 01 2345 6784"): spaces and dashes go, letters go upper case."""
    return re.sub(r"[\s-]+", "", number or "").upper()


def format_problem(carrier_name: str, number: str) -> str | None:
    """Why ``number`` (normalised) is not a tracking number of this carrier; None when it fits."""
    carrier = carrier_for(carrier_name)
    if carrier is None or carrier.accepts(number):
        return None
    return _("This is not a %(carrier)s tracking number: expected %(expected)s.") % {
        "carrier": carrier.name,
        "expected": _(carrier.expected),
    }


def paypal_carrier(carrier_name: str) -> tuple[str, str]:
    """(PayPal ``carrier``, ``carrier_name_other``) for a shipment's carrier: ``OTHER`` with the name if unknown."""
    carrier = carrier_for(carrier_name)
    if carrier is not None:
        return carrier.paypal_code, ""
    return "OTHER", (carrier_name.strip() or "Other")[:64]
