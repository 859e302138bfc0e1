"""The JSON bodies PayPal answers with: orders, captures and refunds as GET shows them, and the shorter answers."""

from __future__ import annotations

import copy
from decimal import Decimal

from .. import money as m

MERCHANT_ID = "2STANDXNMERCH"


class RenderingMixin:
    """Orders, captures and refunds of :class:`StandinState` as PayPal's API shows them."""

    def _order_links(self, order: dict) -> list[dict]:
        base = f"{self.base_url}/v2/checkout/orders/{order['id']}"
        approve = f"{self.base_url}/checkoutnow?token={order['id']}"
        links = [{"href": base, "rel": "self", "method": "GET"}]
        if order["status"] == "CREATED":
            links.append({"href": approve, "rel": "approve", "method": "GET"})
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append({"href": approve, "rel": "payer-action", "method": "GET"})
        if order["status"] in ("CREATED", "APPROVED"):
            links.append({"href": base, "rel": "update", "method": "PATCH"})
            links.append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
        return links

    def _payment_source(self, order: dict) -> dict | None:
        payer = order["payer"]
        if payer is None:
            return {"paypal": {}} if order["payment_source_requested"] else None
        return {
            "paypal": {
                "email_address": payer["email_address"],
                "account_id": payer["payer_id"],
                "account_status": "VERIFIED",
                "name": dict(payer["name"]),
                "address": dict(payer["address"]),
            }
        }

    def _unit_json(self, order: dict, index: int, unit: dict) -> dict:
        data = {"reference_id": unit["reference_id"], "amount": copy.deepcopy(unit["amount"])}
        data["payee"] = copy.deepcopy(unit.get("payee")) or {
            "email_address": self.merchant_email,
            "merchant_id": MERCHANT_ID,
        }
        for key in ("description", "custom_id", "invoice_id", "soft_descriptor", "items", "shipping"):
            if unit.get(key) is not None:
                data[key] = copy.deepcopy(unit[key])
        captures = [self.captures[c] for c in order["capture_ids"] if self.captures[c]["unit_index"] == index]
        if captures:
            refunds = [self.refunds[r] for c in captures for r in c["refund_ids"]]
            data["payments"] = {"captures": [self._capture_json(c, standalone=False) for c in captures]}
            if refunds:
                data["payments"]["refunds"] = [self._refund_json(r) for r in refunds]
        return data

    def _order_json(self, order: dict) -> dict:
        data = {"id": order["id"], "intent": order["intent"], "status": order["status"]}
        source = self._payment_source(order)
        if source is not None:
            data["payment_source"] = source
        data["purchase_units"] = [self._unit_json(order, i, u) for i, u in enumerate(order["purchase_units"])]
        if order["payer"]:
            data["payer"] = copy.deepcopy(order["payer"])
        data["create_time"] = order["create_time"]
        data["update_time"] = order["update_time"]
        data["links"] = self._order_links(order)
        return data

    def _order_answer(self, order: dict, prefer: str | None) -> dict:
        if prefer and "return=representation" in prefer:
            return self._order_json(order)
        data = {"id": order["id"], "status": order["status"]}
        source = self._payment_source(order)
        if source is not None:
            data["payment_source"] = source
        data["links"] = self._order_links(order)
        return data

    def _capture_answer(self, order: dict) -> dict:
        """The capture call's default answer: the order with only what the capture changed."""
        full = self._order_json(order)
        units = [
            {"reference_id": u["reference_id"], **({"payments": u["payments"]} if "payments" in u else {})}
            for u in full["purchase_units"]
        ]
        data = {"id": full["id"], "status": full["status"]}
        for key in ("payment_source",):
            if key in full:
                data[key] = full[key]
        data["purchase_units"] = units
        if "payer" in full:
            data["payer"] = full["payer"]
        data["links"] = full["links"]
        return data

    def _capture_json(self, capture: dict, *, standalone: bool) -> dict:
        base = f"{self.base_url}/v2/payments/captures/{capture['id']}"
        data: dict = {"id": capture["id"], "status": capture["status"]}
        if capture["status_details"]:
            data["status_details"] = dict(capture["status_details"])
        data["amount"] = dict(capture["amount"])
        data["final_capture"] = True
        data["seller_protection"] = {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        }
        if capture["status"] not in ("PENDING", "DECLINED"):
            gross = Decimal(capture["amount"]["value"])
            currency = capture["amount"]["currency_code"]
            fee = min(gross, (gross * Decimal("0.0349") + Decimal("0.49")).quantize(Decimal("0.01")))
            if m.places(currency) == 0:
                fee = fee.quantize(Decimal(1))
            data["seller_receivable_breakdown"] = {
                "gross_amount": m.money(gross, currency),
                "paypal_fee": m.money(fee, currency),
                "net_amount": m.money(gross - fee, currency),
            }
        for key in ("custom_id", "invoice_id"):
            if capture[key]:
                data[key] = capture[key]
        data["links"] = [
            {"href": base, "rel": "self", "method": "GET"},
            {"href": f"{base}/refund", "rel": "refund", "method": "POST"},
            {"href": f"{self.base_url}/v2/checkout/orders/{capture['order_id']}", "rel": "up", "method": "GET"},
        ]
        if standalone:
            data["supplementary_data"] = {"related_ids": {"order_id": capture["order_id"]}}
            data["payee"] = {"email_address": self.merchant_email, "merchant_id": MERCHANT_ID}
        data["create_time"] = capture["create_time"]
        data["update_time"] = capture["update_time"]
        return data

    def _refund_links(self, refund: dict) -> list[dict]:
        return [
            {"href": f"{self.base_url}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
            {"href": f"{self.base_url}/v2/payments/captures/{refund['capture_id']}", "rel": "up", "method": "GET"},
        ]

    def _refund_json(self, refund: dict) -> dict:
        capture = self.captures[refund["capture_id"]]
        currency = refund["amount"]["currency_code"]
        total = sum(
            (
                Decimal(self.refunds[r]["amount"]["value"])
                for r in capture["refund_ids"][: capture["refund_ids"].index(refund["id"]) + 1]
            ),
            Decimal(0),
        )
        data = {"id": refund["id"], "status": refund["status"], "amount": dict(refund["amount"])}
        for key in ("note_to_payer", "invoice_id", "custom_id"):
            if refund[key]:
                data[key] = refund[key]
        data["seller_payable_breakdown"] = {
            "gross_amount": dict(refund["amount"]),
            "paypal_fee": m.money(Decimal(0), currency),
            "net_amount": dict(refund["amount"]),
            "total_refunded_amount": m.money(total, currency),
        }
        data["links"] = self._refund_links(refund)
        data["create_time"] = refund["create_time"]
        data["update_time"] = refund["update_time"]
        return data
