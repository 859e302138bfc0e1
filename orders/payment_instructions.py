"""What the customer must do to pay, written the same on the order page, in the e-mails and on the invoice.

* Bank transfer: the shop's bank details (Policy), the payment purpose with the order number, and a
  QR code in the Russian banks' payment format (GOST R 56042-2014) a banking app scans to fill the
  transfer in.
* Cash or card to the courier: the amount the courier will collect at the door.
* Bank card online: who processes the card (PayPal), said before the customer leaves the shop.
* The VAT line the Policy sets (a rate included in the prices, or "VAT not charged" with its reason).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from djmoney.money import Money

from shop.models import ON_DELIVERY_METHODS, PaymentMethod, Policy
from shop.money import format_money, money

from .models import Order
from .pricing import order_amount_due

#: The standard's header: format ST, version 0001, character set 2 = UTF-8.
GOST_HEADER = "ST00012"


def vat_amount(total: Money, rate: Decimal) -> Money:
    """The VAT contained in a price that includes it: total × rate / (100 + rate), rounded once."""
    return money(total.amount * rate / (Decimal(100) + rate), total.currency)


def vat_line(order: Order, policy: Policy) -> str:
    """The invoice's and the purpose's VAT words, in the active language."""
    if policy.vat_rate is None:
        return _("VAT not charged (%(reason)s)") % {"reason": policy.vat_exempt_reason}
    rate = f"{policy.vat_rate.normalize():f}"
    return _("VAT %(rate)s%% included: %(amount)s") % {
        "rate": rate,
        "amount": format_money(vat_amount(order.total, policy.vat_rate)),
    }


def payment_purpose(order: Order, policy: Policy) -> str:
    """What the customer writes in the transfer's purpose field; the order number makes it findable."""
    if policy.vat_rate is None:
        vat = _("VAT not charged")
    else:
        rate = f"{policy.vat_rate.normalize():f}"
        vat = _("incl. VAT %(rate)s%% %(amount)s") % {
            "rate": rate,
            "amount": format_money(vat_amount(order.total, policy.vat_rate)),
        }
    return _("Payment for order %(number)s; %(vat)s") % {"number": order.number, "vat": vat}


@dataclass(frozen=True)
class BankTransfer:
    recipient: str
    inn: str
    kpp: str
    account: str
    bank: str
    bic: str
    correspondent_account: str
    amount: Money
    purpose: str

    def qr_fields(self) -> list[tuple[str, str]]:
        """The GOST R 56042-2014 fields, in the standard's order (required ones first)."""
        fields = [
            ("Name", self.recipient),
            ("PersonalAcc", self.account),
            ("BankName", self.bank),
            ("BIC", self.bic),
            ("CorrespAcc", self.correspondent_account),
            ("Sum", str(int(self.amount.amount * 100))),  # kopecks
            ("Purpose", self.purpose),
            ("PayeeINN", self.inn),
        ]
        if self.kpp:
            fields.append(("KPP", self.kpp))
        return fields

    @property
    def qr_payload(self) -> str:
        # "|" separates the fields: a value may not contain one.
        return "|".join([GOST_HEADER, *(f"{name}={value.replace('|', ' ')}" for name, value in self.qr_fields())])

    def qr_png(self) -> bytes:
        import segno

        out = io.BytesIO()
        segno.make(self.qr_payload, encoding="utf-8", error="m", micro=False).save(out, kind="png", scale=5, border=4)
        return out.getvalue()

    @property
    def qr_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.qr_png()).decode()


def bank_transfer(order: Order, policy: Policy | None = None) -> BankTransfer | None:
    """The transfer to make for a bank-transfer order (None for other methods)."""
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        return None
    policy = policy or Policy.load()
    return BankTransfer(
        recipient=policy.bank_recipient,
        inn=policy.seller_inn,
        kpp=policy.seller_kpp,
        account=policy.bank_account,
        bank=policy.bank_name,
        bic=policy.bank_bic,
        correspondent_account=policy.bank_correspondent_account,
        amount=order_amount_due(order),
        purpose=payment_purpose(order, policy),
    )


def courier_collects(order: Order) -> Money | None:
    """What the courier takes at the door for cash/card on delivery (None for prepaid orders)."""
    if order.payment_method not in ON_DELIVERY_METHODS:
        return None
    return order_amount_due(order)


def payment_instructions(order: Order, policy: Policy | None = None) -> dict:
    """The template context the order page, the e-mails and the invoice share.

    Read only what the order's payment method needs: a PayPal order's page costs no query here.
    """
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        policy = policy or Policy.load()
    return {
        "bank_transfer": bank_transfer(order, policy),
        "courier_collects": courier_collects(order),
        "vat_line": SimpleLazyObject(lambda: vat_line(order, policy or Policy.load())),
    }
