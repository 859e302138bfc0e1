"""Where uploaded files live.

Product pictures use the default storage (MEDIA_ROOT, served publicly). What customers send about
their orders — claim photos, signed acts — uses the ``private`` storage (PRIVATE_MEDIA_ROOT), which
no URL serves: staff open those files only through admin views that check permissions.
"""

from django.core.files.storage import storages


def private_storage():
    """The storage for customers' documents (a callable, so tests can point it elsewhere)."""
    return storages["private"]
