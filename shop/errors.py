"""The base of every service error: a message for the person who asked, a code for the code.

Callers (views, admin, tests) branch on ``error.code`` (each app's ``*ErrorCode`` choices, Saleor's
``error_codes.py``), never on the message text; the message is shown next to the field or at the top
of the page. Raising one means nothing was changed.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code
