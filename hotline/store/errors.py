"""What the store raises to its callers, beside whatever a caller's own work raised.

Raised by `StoreHandle`; the API maps these to 503 (they are not domain errors: the request may
be fine, the storage is not). Messages never carry row values, so they are safe to log.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's own failures."""


class StoreUnavailable(StoreError):
    """The store is not running, or stopped before answering (a write's outcome is unknown)."""


class CommitFailed(StoreError):
    """The transaction shared by this request's group did not commit: nothing of it is on disk.

    `__cause__` is the SQLite error, shared by every caller of the group.
    """


class SchemaTooNew(StoreError):
    """The database was migrated by a newer release than this one; refuse rather than guess."""
