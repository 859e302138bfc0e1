"""``python manage.py paypal_standin``: run the local PayPal stand-in until Ctrl-C.

It accepts the credentials in ``settings.PAYPAL_CLIENT_ID`` / ``PAYPAL_CLIENT_SECRET`` and signs
webhooks for ``settings.PAYPAL_WEBHOOK_ID`` unless ``--webhook-id`` says otherwise. Point the shop at
it with ``PAYPAL_API_BASE=http://127.0.0.1:8765``. The stand-in itself is the top-level ``paypal_standin``
package (stdlib only); this command only reads the settings and starts it.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from paypal_standin import StandinServer


class Command(BaseCommand):
    help = "Run the local PayPal stand-in (PayPal's REST API subset, approval page, signed webhooks)."
    requires_system_checks = []  # the stand-in uses no models; start even while the shop's code is mid-change

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--webhook-url",
            default=None,
            help="where to POST webhooks, e.g. http://127.0.0.1:8000/payments/paypal/webhook/",
        )
        parser.add_argument("--webhook-id", default=None, help="webhook id to sign for (default: PAYPAL_WEBHOOK_ID)")
        parser.add_argument(
            "--timeout-delay",
            type=float,
            default=None,
            help="seconds a 'timeout' fault holds the answer back (default: PAYPAL_TIMEOUT + 5)",
        )
        parser.add_argument("--quiet", action="store_true", help="do not log each request")

    def handle(self, *args, **options):
        server = StandinServer(
            host=options["host"],
            port=options["port"],
            verbose=not options["quiet"],
            client_id=settings.PAYPAL_CLIENT_ID,
            client_secret=settings.PAYPAL_CLIENT_SECRET,
            webhook_id=options["webhook_id"] or settings.PAYPAL_WEBHOOK_ID,
            webhook_url=options["webhook_url"],
            timeout_delay=options["timeout_delay"] or settings.PAYPAL_TIMEOUT + 5,
        )
        self.stdout.write(
            f"PayPal stand-in on {server.url} (client id {settings.PAYPAL_CLIENT_ID!r}); "
            f"webhooks to {options['webhook_url'] or 'nowhere (POST /_standin/config to set)'}. Ctrl-C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the PayPal stand-in.")
        finally:
            server.stop()
