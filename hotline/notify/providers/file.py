"""The `file` provider: one JSON line per delivered message, appended and fsynced.

The default of a fresh install: SMS go to `sms.jsonl`, e-mail to `email.jsonl`, personal-account
events to `account.jsonl`, in the configured directory. A message whose idempotency key is
already in its file is not written again (a re-delivery after a crash), so each file holds every
message exactly once. The writes run in a worker thread; one at a time per file.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import IO, Any

import trio

from hotline.files import fsync_directory, make_directory
from hotline.notify.providers.base import Accepted, DeliveryResult, Outgoing
from hotline.store.outbox import MessageKind

FILE_NAMES = {
    MessageKind.SMS: "sms.jsonl",
    MessageKind.EMAIL: "email.jsonl",
    MessageKind.ACCOUNT_EVENT: "account.jsonl",
}
_IDS = uuid.UUID("6f1d2c1e-6c55-4d1e-9a51-5b0e3f4a7c11")  # namespace of the ids it hands out


class FileProvider:
    name = "file"

    def __init__(self, directory: Path, kind: MessageKind) -> None:
        self.path = directory / FILE_NAMES[kind]
        self._lock = trio.Lock()
        self._file: IO[str] | None = None
        self._seen: set[str] = set()

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        # Named by the key, so a re-delivery gets the id the first delivery got.
        provider_id = str(uuid.uuid5(_IDS, message.idempotency_key))
        line = {"id": provider_id, **message.payload(), "at": message.at}
        async with self._lock:
            await trio.to_thread.run_sync(self._append, message.idempotency_key, line)
        return Accepted(provider_id)

    async def aclose(self) -> None:
        async with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _append(self, key: str, line: dict[str, Any]) -> None:
        if self._file is None:
            self._file = self._open()
        if key in self._seen:
            return
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._seen.add(key)

    def _open(self) -> IO[str]:
        make_directory(self.path.parent)
        is_new = not self.path.exists()
        torn = False
        if not is_new:
            with self.path.open(encoding="utf-8") as existing:
                for text in existing:
                    torn = not text.endswith("\n")
                    try:
                        self._seen.add(str(json.loads(text)["idempotency_key"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn last line from a crash: that message is sent again
        file = self.path.open("a", encoding="utf-8")
        if torn:
            file.write("\n")  # the next line starts on a line of its own
        if is_new:
            fsync_directory(self.path.parent)  # the new name survives a crash, as its lines do
        return file
