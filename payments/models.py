"""Payments, refunds out and PayPal webhook events (the payments issue fills this)."""
