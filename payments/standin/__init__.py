"""A local stand-in for the part of PayPal's REST API the shop uses.

``StandinServer`` (server.py) serves it over HTTP from a thread; ``StandinState`` (state.py) holds the
orders, captures, refunds and faults; ``StandinClient`` (client.py) drives its control API from tests
and scripts. Run it standalone with ``python manage.py paypal_standin --port 8765``; in tests use the
``paypal_standin`` fixture (tests/fixtures/standin.py). No Django imports here: the server runs in any
Python 3.11 process.
"""

from .client import StandinClient
from .server import StandinServer
from .state import StandinState

__all__ = ["StandinClient", "StandinServer", "StandinState"]
