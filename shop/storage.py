"""Where uploaded files live.

Product pictures use the default storage (MEDIA_ROOT, served publicly). What customers send about
their orders — claim photos, signed acts — uses the private storage (PRIVATE_MEDIA_ROOT), which no
URL serves: staff open those files only through admin views that check permissions.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files under ``settings.PRIVATE_MEDIA_ROOT``, read at each use (tests point it at a temporary
    folder), with no URL: ``url()`` refuses, so a template cannot link to a customer's document."""

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage() -> PrivateStorage:
    """The storage of customers' documents (a callable, so migrations name it rather than a path)."""
    return PrivateStorage()
