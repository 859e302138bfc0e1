"""E-mail backends used only by the integration tests' worker processes (chosen by EMAIL_BACKEND)."""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class HangOnceEmailBackend(FileBackend):
    """The first send in a test hangs, so the test can kill the worker mid-task; later sends work.

    "First" is recorded in the file named by ``INTEGRATION_HANG_MARKER`` (created atomically, so
    exactly one process hangs). Messages are written to ``EMAIL_FILE_PATH`` like the file backend.
    """

    def send_messages(self, email_messages):
        marker = Path(os.environ["INTEGRATION_HANG_MARKER"])
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return super().send_messages(email_messages)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(float(os.environ.get("INTEGRATION_HANG_SECONDS", "120")))
        return super().send_messages(email_messages)
