"""Obligations survive a crash: the transactional outbox, in three parts.

1. **The row.** What the shop owes the outside world (an e-mail to send, a refund to pay out, a
   fulfilment partner to notify) is a row written in the *same transaction* as the change that
   creates the obligation, with a status saying it is still pending. If the change rolls back, the
   obligation goes with it; if it commits, the obligation is on disk.
2. **The task.** After commit, ``enqueue_after_commit(task, row_id)`` queues a Celery task that makes
   the outside call. The task is declared with Celery's own retry options (``autoretry_for``,
   ``retry_backoff``, ``retry_jitter``, ``max_retries``, ``acks_late``), records each attempt on the
   row, and is idempotent: it locks the row and does nothing if the row says the work is done.
3. **The sweep.** ``transaction.on_commit`` callbacks live only in memory: a process that dies between
   the commit and the callback, or a broker that is down at that moment, loses the task but not the
   row. A periodic task (in the one beat schedule, ``config/celery.py``) queues the task again for
   every row still pending longer than a margin (``SWEEP_MARGIN_SECONDS`` by default, long enough
   for the task queued at commit to have run; 0 for a test or an operator who wants it now), with a
   bound on attempts so a message that can never succeed stops being retried.

Example (``shop.emails``)::

    email = Email.objects.create(...)               # 1, in the caller's transaction
    enqueue_after_commit(email_send, email.pk)      # 2, after commit
    # 3: shop.tasks.emails_retry_unsent, every 5 minutes

Pass ids, never model instances: the task reads the committed row.
"""

from __future__ import annotations

import logging
from functools import partial
from importlib import import_module

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)

#: How long a row may stay pending before the sweep queues its task again.
SWEEP_MARGIN_SECONDS = 5 * 60


def enqueue_after_commit(task: Task | str, *args) -> None:
    """Queue ``task.delay(*args)`` once the current transaction commits (at once outside one).

    ``task`` may be the task's registered name (``"payments.tasks.payments_refund_send"``): a service
    module then needs no import of the tasks module that imports it (no import cycle). The name is
    looked up in the Celery app's registry at commit time, so eager mode in unit tests still applies.

    Nothing is queued if the transaction rolls back. If queuing fails (the broker is down), the
    error is logged and not raised: the change has committed and the pending row stays for the sweep.
    """
    transaction.on_commit(partial(enqueue, task, *args))


def requeue(pending, task: Task | str, *, limit: int) -> int:
    """The sweep's loop: queue ``task`` again for the first ``limit`` rows of ``pending`` (a queryset of
    rows still owed, past the caller's margin). Returns how many were queued."""
    ids = list(pending.values_list("pk", flat=True)[:limit])
    for row_id in ids:
        enqueue(task, row_id)
    return len(ids)


def enqueue(task: Task | str, *args) -> None:
    """Queue ``task.delay(*args)`` now (a sweep re-queuing rows that are already committed).

    A broker that is down is logged, not raised: the row stays pending for the next sweep.
    """
    name = task if isinstance(task, str) else task.name
    try:
        if isinstance(task, str):
            # Web processes never autodiscover task modules (only workers do): import the one named.
            import_module(task.rsplit(".", 1)[0])
            task = current_app.tasks[task]
        task.delay(*args)
    except Exception:
        logger.exception("Could not queue %s%r; the periodic sweep will queue it again", name, args)
