"""The e-mail to the supervisors before an operator's certification lapses: `[certification]
notice_days` ahead, once per lapse, through the outbox.

`send_lapse_notices(sv)` writes one message per operator whose certification ends within the
notice window, with the dedupe key `certification:{operator}:{last day}:notice`: the outbox
writes a key once, so a notice goes out once per lapse however often the job looks (and a
renewal that moves the last day makes a new lapse, with its own notice). An operator who enters
the window late (a server that was down, an import with days left) is told about at the next
look, not never. `CertificationNotices.run` is the periodic job in the root nursery.
"""

from __future__ import annotations

import logging

import trio

from hotline.jsonlog import log_event
from hotline.services import Services
from hotline.services.certifications import Lapsing, lapsing_within
from hotline.store import StoreError, Tx
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message

log = logging.getLogger("hotline.certification")


def notice(lapsing: Lapsing, address: str) -> NewMessage:
    day = lapsing.certified_until.strftime("%d.%m.%Y")
    subject = f"Сертификация оператора {lapsing.operator_id} истекает {day}"
    body = (
        f"Сертификация оператора {lapsing.name} ({lapsing.operator_id}) действует по {day}"
        f" включительно (осталось дней: {lapsing.days_left}). После этого линия перестанет"
        " предлагать ему обращения. Назначьте теоретический тест и практический экзамен и"
        " внесите результаты в журнал: POST /v1/operators/"
        f"{lapsing.operator_id}/certifications."
    )
    key = f"certification:{lapsing.operator_id}:{lapsing.certified_until.isoformat()}:notice"
    return NewMessage(MessageKind.EMAIL, address, body, dedupe_key=key, subject=subject)


async def send_lapse_notices(sv: Services) -> int:
    """Queue the notices due now; how many were new."""
    config = sv.settings.certification
    due = await lapsing_within(sv, config.notice_days)
    if not due:
        return 0
    at = sv.clock.now()

    async def work(tx: Tx) -> int:
        written = 0
        for lapsing in due:
            if await enqueue_message(tx, notice(lapsing, config.supervisor_email), at=at):
                written += 1
        return written

    written = await sv.store.transact(work)
    if written:
        log_event(log, "certification.lapse_notices", notices=written)
    return written


class CertificationNotices:
    def __init__(self, services: Services) -> None:
        self._sv = services

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        interval = self._sv.settings.certification.check_every_min * 60
        task_status.started()
        while True:
            try:
                await send_lapse_notices(self._sv)
            except (OSError, StoreError) as e:
                # A store that cannot write is no reason to stop: the next look does it.
                log_event(
                    log, "certification.notices_failed", logging.ERROR, error=type(e).__name__
                )
            await trio.sleep(interval)
