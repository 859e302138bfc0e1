"""PayPal's error answers: the HTTP status, the error body and the issue descriptions the specs enumerate."""

from __future__ import annotations

import secrets

ERRORS = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to missing authorization header, or invalid authentication credentials.",
    ),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error occurred."),
}

# Issue descriptions exactly as the specs enumerate them (the contract test checks them).
DESCRIPTIONS = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "MISSING_REQUIRED_PARAMETER": "A required parameter is missing.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_ARRAY_MIN_ITEMS": "The number of items in an array parameter is too small.",
    "INVALID_ARRAY_MAX_ITEMS": "The number of items in an array parameter is too large.",
    "NOT_SUPPORTED": "This field is not currently supported.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID and try again.",
    "AMOUNT_MISMATCH": "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount"
    " - discount.",
    "ITEM_TOTAL_MISMATCH": "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.",
    "ITEM_TOTAL_REQUIRED": "If item details are specified (items.unit_amount and items.quantity) corresponding"
    " amount.breakdown.item_total is required.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero. If the currency supports decimals, only two decimal"
    " place precision is supported.",
    "CANNOT_BE_NEGATIVE": "Must be greater than or equal to 0. If the currency supports decimals, only two decimal"
    " place precision is supported.",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is supported.",
    "UNSUPPORTED_INTENT": "`intent=AUTHORIZE` is not supported for multiple purchase units. Only `intent=CAPTURE` is"
    " supported.",
    "MULTI_CURRENCY_ORDER": "Multiple differing values of currency_code are not supported. Entire Order request must"
    " have the same currency_code.",
    "INVALID_CURRENCY_CODE": "Currency code is invalid or is not currently supported. Please refer"
    " https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes.",
    "DUPLICATE_REFERENCE_ID": "`reference_id` must be unique if multiple purchase_units are provided.",
    "REFERENCE_ID_REQUIRED": "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are"
    " provided.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment. Please redirect the payer to the"
    " 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid"
    " `payment_source` in the request.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture amount that has not yet"
    " been refunded.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "REFUND_NOT_ALLOWED": "Capture cannot be refunded.",
    "PENDING_CAPTURE": "Cannot initiate a refund as the capture is pending. Capture is typically pending when the"
    " payer has funded the transaction using e-check/bank funded.",
}
# Issues whose description the specs leave free (no enum): our own wording.
FREE_DESCRIPTIONS = {
    ("payments", "CANNOT_BE_ZERO_OR_NEGATIVE"): "Must be greater than zero.",
    ("payments", "DECIMAL_PRECISION"): "The value of the field should not be more than two decimals.",
    ("payments", "MISSING_REQUIRED_PARAMETER"): "A required field / parameter is missing.",
    ("payments", "INVALID_PARAMETER_SYNTAX"): "The value of a field does not conform to the expected format.",
}


class ApiError(Exception):
    """An error answer: HTTP status plus PayPal's error body."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body.get('name') or body.get('error')}")
        self.status = status
        self.body = body


class ControlError(Exception):
    """Bad use of the stand-in's own control API (``/_standin/``)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def paypal_error(
    status: int,
    issue: str | None = None,
    *,
    api: str = "orders",
    field: str | None = None,
    value: str | None = None,
    location: str = "body",
    description: str | None = None,
) -> ApiError:
    name, message = ERRORS[status]
    body: dict = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if issue:
        detail: dict = {}
        if field:
            detail["field"] = field
        if value is not None:
            detail["value"] = str(value)
        if field or location != "body":
            detail["location"] = location
        detail["issue"] = issue
        detail["description"] = (
            description or FREE_DESCRIPTIONS.get((api, issue)) or DESCRIPTIONS.get(issue) or issue.replace("_", " ")
        )
        body["details"] = [detail]
        body["links"] = [
            {
                "href": f"https://developer.paypal.com/docs/api/{api}/v2/#error-{issue}",
                "rel": "information_link",
                "method": "GET",
            }
        ]
    return ApiError(status, body)


def webhooks_error(name: str, message: str, details: list | None = None) -> dict:
    body = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if details:
        body["details"] = details
    return body
