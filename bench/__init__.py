"""`make bench`: a scaled shop served by gunicorn, driven by Locust, measured against Django's floor.

See bench/README.md. Nothing here is imported by the shop itself: the bench settings
(``bench.settings``) add the floor view and the query counter on top of the production settings.
"""
