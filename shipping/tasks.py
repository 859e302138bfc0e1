"""Celery tasks of the fulfilment app: thin wrappers around services (beat entries in config/celery.py)."""
