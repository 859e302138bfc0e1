"""A local stand-in for the part of PayPal's REST API the shop uses.

``StandinServer`` (server.py) serves it over HTTP from a thread; ``StandinState`` (state/) holds the
orders, captures, refunds and faults; ``StandinClient`` (client.py) drives its control API from tests
and scripts. Run it standalone with ``python manage.py paypal_standin --port 8765`` (a thin command in
shop/management/commands/); in tests use the ``paypal_standin`` fixture (tests/fixtures/standin.py).
No Django imports here: the server runs in any Python 3.11 process. It is a development and test
server, not part of the shop, so it lives outside the apps.

By hand, next to ``runserver``::

    python manage.py paypal_standin --port 8765 --webhook-url http://127.0.0.1:8000/payments/paypal/webhook/
    PAYPAL_API_BASE=http://127.0.0.1:8765 python manage.py runserver

Paying an order then sends the browser to the stand-in's approval page (``/checkoutnow?token=…``);
"Approve" returns to the shop's return URL. Faults for a demo: ``curl -X POST
http://127.0.0.1:8765/_standin/faults -d '{"operation": "capture", "kind": "denied"}'``. See server.py
for every endpoint and the control API.
"""

from .client import StandinClient
from .server import StandinServer
from .state import StandinState

__all__ = ["StandinClient", "StandinServer", "StandinState"]
