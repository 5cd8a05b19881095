"""The voicemail watcher: the actor that keeps every voicemail moving when nobody asks it to.

Started by the composition root after the router and the journal (`await nursery.start(
VoicemailWatcher(services).run)`). Before it reports started, it repairs what a crash left half
done: a callback contact whose voicemail row was committed but which never reached the store is
queued again (same id, same times), and a contact whose outcome was recorded but which was still
live is ended. Then it loops:

- retries: each voicemail waiting for a retry is queued, as a new callback contact arriving at
  its recorded due time, when that time comes. The due time is in the store, so a restart in the
  middle of a retry delay keeps it: the watcher sleeps until it, not for a fresh delay.
  `callbacks` rings `Services.voicemail_wakeup` when it schedules one, so none is slept past;
- every `sweep_interval_s`: callback contacts that ended without an outcome reported through the
  voicemail API are settled (see `callbacks.settle_ended_callback`), recordings older than the
  retention are deleted, each deletion recorded, and stray files are removed: a recording written
  by an upload that crashed before its row was committed, or a `.part` file of an interrupted
  write (untouched for `STRAY_GRACE_S`, so that an upload in flight is never taken for one);
  then rows finished more than `[retention] personal_data_days` ago lose their personal data
  (`hotline.store.retention`), in small batches, and the KPI rollups per minute older than
  `[retention] kpi_minutes_days` are deleted (`hotline.store.rollups.purge_minutes`).

A round that fails with an OSError (EMFILE when the process is out of file descriptors, ENOSPC)
or a store error is logged and tried again after a pause that doubles up to the sweep interval:
the watcher, and so the service, never stops for it.

It reads time only through `Services.clock` and sleeps on trio's clock, so under `MockClock` the
schedule runs in virtual time.
"""

from __future__ import annotations

import errno
import logging
import time

import trio

from hotline.files import remove_strays
from hotline.jsonlog import log_event
from hotline.services import Services
from hotline.services.voicemails.callbacks import (
    finish_reported_contact,
    requeue_callback,
    settle_ended_callback,
    start_retry_attempt,
)
from hotline.store import StoreError, Tx, retention
from hotline.store.identity import database_id
from hotline.store.rollups import purge_minutes
from hotline.store.voicemails import (
    due_retries,
    mark_audio_deleted,
    next_retry_at,
    open_callbacks,
    recording_names,
    recordings_older_than,
    reported_but_live,
)
from hotline.voicemail.recordings import delete_recording

log = logging.getLogger(__name__)

BATCH = 100  # rows taken per query; the loop comes back for more at once
STRAY_GRACE_S = 600.0  # an upload commits its row within seconds of writing its file
SCRUB_BATCH = 200  # rows of one kind per transaction: a short hold of the write lock
SCRUB_BATCHES = 50  # transactions of one kind per sweep, at most
PURGE_HOURS = 48  # hours of minute rollups purged per sweep, at most (a transaction each)
FAILED_ROUND_PAUSE_S = 1.0  # after a round that failed; doubled each time, up to the interval


class VoicemailWatcher:
    def __init__(self, services: Services) -> None:
        self._sv = services

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        sv = self._sv
        await self.repair()
        task_status.started()
        interval = sv.settings.voicemail.sweep_interval_s
        next_sweep = sv.clock.now()
        now = next_sweep
        failures = 0
        while True:
            try:
                await self.queue_due_retries(now)
                if now >= next_sweep:
                    await self.sweep(now)
                    next_sweep = now + interval
                due = await sv.store.read(next_retry_at)
                failures = 0
                wake = next_sweep if due is None else min(due, next_sweep)
            except (OSError, StoreError) as e:
                # Out of file descriptors (EMFILE, ENFILE), a full disk, a store that cannot
                # write: none is a reason to stop the service. What the round did not do is
                # still in the store; the next round, after a growing pause, does it.
                failures += 1
                pause = min(interval, FAILED_ROUND_PAUSE_S * 2 ** min(failures - 1, 16))
                log_event(
                    log,
                    "voicemail.watcher_round_failed",
                    logging.ERROR,
                    error=type(e).__name__,
                    errno=errno.errorcode.get(getattr(e, "errno", None) or 0),
                    failures=failures,
                    retry_in_s=pause,
                )
                wake = now + pause
            came = await sv.voicemail_wakeup.sleep_until(sv.clock.trio_time(wake))
            # The clock may read a hair before `wake` when the alarm fires: it is `wake` now.
            now = max(sv.clock.now(), wake) if came else sv.clock.now()

    async def repair(self) -> None:
        """Finish what a crash cut in two; runs before anything else can touch a voicemail."""
        sv = self._sv
        for reported in await sv.store.read(reported_but_live):
            log_event(log, "voicemail.repair_end_contact", contact=reported.contact_id)
            await finish_reported_contact(
                sv, reported.contact_id, reported.reported_by, reported.outcome
            )
        for callback in await sv.store.read(lambda tx: open_callbacks(tx, ended_only=False)):
            if callback.contact_state is None:
                log_event(
                    log,
                    "voicemail.repair_requeue",
                    voicemail=callback.voicemail.id,
                    contact=callback.attempt.contact_id,
                )
                await requeue_callback(sv, callback)

    async def queue_due_retries(self, now: float) -> None:
        sv = self._sv
        while True:
            due = await sv.store.read(lambda tx: due_retries(tx, now=now, limit=BATCH))
            for row in due:
                await start_retry_attempt(sv, row)
            if len(due) < BATCH:
                return

    async def sweep(self, now: float) -> None:
        await self.settle_ended_callbacks()
        await self.delete_old_recordings(now)
        await self.delete_stray_files()
        await self.scrub_personal_data(now)
        await self.purge_minute_rollups(now)

    async def purge_minute_rollups(self, now: float) -> None:
        """Delete the KPI rollups per minute older than `[retention] kpi_minutes_days`, an hour
        of them per transaction and at most `PURGE_HOURS` per sweep (the next goes on)."""
        before = now - self._sv.settings.retention.kpi_minutes_s

        async def work(tx: Tx) -> bool:
            return await purge_minutes(tx, before=before, span_s=3600)

        for _ in range(PURGE_HOURS):
            if await self._sv.store.transact(work):
                return

    async def scrub_personal_data(self, now: float) -> dict[str, int]:
        """Scrub the personal data of rows finished more than `[retention] personal_data_days`
        ago (`hotline.store.retention`): each batch its own short transaction, so writers wait
        for one batch at most, and at most `SCRUB_BATCHES` batches of a kind per sweep; the
        next sweep goes on where this one stopped. How many rows of each kind were scrubbed."""
        sv = self._sv
        before = now - sv.settings.retention.personal_data_s
        counts: dict[str, int] = {}
        for kind in retention.KINDS:
            total = 0
            for _ in range(SCRUB_BATCHES):

                async def work(tx: Tx, kind: retention.Kind = kind) -> int:
                    return await retention.scrub_batch(tx, kind, before=before, limit=SCRUB_BATCH)

                done = await sv.store.transact(work)
                total += done
                if done < SCRUB_BATCH:
                    break
            if total:
                counts[kind.name] = total
        if counts:
            log_event(log, "retention.personal_data_scrubbed", rows=counts)
        return counts

    async def delete_stray_files(self) -> list[str]:
        """Remove files of the recordings folder that no voicemail names; their names."""
        directory = self._sv.settings.voicemail.dir
        # Names first, then the folder: a recording committed in between is young, and kept.
        known = await self._sv.store.read(recording_names)
        owner = await self._sv.store.read(database_id)  # another database's folder: not swept
        # File times are real wall-clock times, whatever clock the service runs on.
        before = time.time() - STRAY_GRACE_S
        removed = await trio.to_thread.run_sync(
            lambda: remove_strays(directory, known, modified_before=before, owner=owner)
        )
        if removed:
            log_event(log, "voicemail.stray_files_deleted", count=len(removed))
        return removed

    async def settle_ended_callbacks(self) -> None:
        sv = self._sv
        for callback in await sv.store.read(lambda tx: open_callbacks(tx, ended_only=True)):
            log_event(
                log,
                "voicemail.settle_ended_callback",
                voicemail=callback.voicemail.id,
                contact=callback.attempt.contact_id,
                state=callback.contact_state,
            )
            await settle_ended_callback(sv, callback)

    async def delete_old_recordings(self, now: float) -> int:
        """Delete recordings that arrived more than the retention ago; how many were deleted."""
        sv = self._sv
        settings = sv.settings.voicemail
        before = now - settings.retention_s
        deleted = 0
        while True:
            batch = await sv.store.read(lambda tx: recordings_older_than(tx, before, limit=BATCH))
            for _, file_name in batch:
                await trio.to_thread.run_sync(delete_recording, settings.dir, file_name)

            async def record(tx: Tx, batch: list[tuple[str, str]] = batch) -> None:
                for voicemail_id, _ in batch:
                    await mark_audio_deleted(tx, voicemail_id, at=now, reason="retention")

            if batch:
                await sv.store.transact(record)
                deleted += len(batch)
                log_event(log, "voicemail.recordings_deleted", count=len(batch))
            if len(batch) < BATCH:
                return deleted
