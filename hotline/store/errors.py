"""What the store raises to its callers, beside whatever a caller's own work raised.

Raised by `StoreHandle`; the API maps these to 503 (they are not domain errors: the request may
be fine, the storage is not). Messages never carry row values, so they are safe to log.
"""

from __future__ import annotations

import errno
import sqlite3


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


class StoreReadOnly(CommitFailed):
    """The storage cannot be written now (disk full, quota, I/O error): nothing of this request
    was written. The store refuses writes at once while it lasts, probes with a small real write,
    and takes writes again by itself once one succeeds. The API answers 503 with Retry-After.
    """


class FilesUnwritable(StoreError):
    """A file (a recording, an attachment) could not be written for the same reasons; nothing of
    it was left behind."""


# SQLite's primary result codes (the low byte of an extended code) and the errnos that mean "the
# storage cannot take this write", as opposed to a bug or a constraint in the work itself.
_SQLITE_STORAGE_CODES = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}
)
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG})


def storage_fault(error: BaseException | None) -> BaseException | None:
    """The storage fault behind `error` (itself, or its cause or context), or None."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sqlite3.Error):
            code = getattr(error, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _SQLITE_STORAGE_CODES:
                return error
        elif _is_storage_errno(error) or isinstance(error, StoreReadOnly | FilesUnwritable):
            return error
        error = error.__cause__ or error.__context__
    return None


def _is_storage_errno(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS
