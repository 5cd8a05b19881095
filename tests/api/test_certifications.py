"""The certification journal through the API: tests and exams recorded, the certification they
give, corrections, imports of typed dates, the expiring list and the lapse e-mails, and what the
router does with all of it (who may go ready, an operator lapsing with a contact in hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hotline.domain.certification import add_months
from hotline.services import Services
from hotline.services.certification_notices import send_lapse_notices
from hotline.store.outbox import list_messages
from tests.api.conftest import PAYMENTS_DESK, Clients

UNCERTIFIED = {k: v for k, v in PAYMENTS_DESK.items() if k != "certified_until"}
CALL = {"channel": "voice", "topic": "payments", "phone": "8 (912) 345-67-89"}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def exam(kind: str, score: float, *, days_ago: float = 0, **extra: Any) -> dict[str, Any]:
    taken = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "kind": kind,
        "score": score,
        "max_score": 100,
        "examiner": "Ирина Смирнова",
        "taken_at": rfc3339(taken),
        **extra,
    }


def local_date(services: Services, days_ago: float = 0) -> date:
    moment = datetime.fromtimestamp(
        services.clock.now() - days_ago * 86400, services.settings.timezone
    )
    return moment.date()


async def certify(api: Clients, op_id: str = "op-1", *, days_ago: float = 0) -> dict[str, Any]:
    for kind in ("theory", "practical"):
        status, body = await api.supervisor.post(
            f"/v1/operators/{op_id}/certifications", exam(kind, 90, days_ago=days_ago)
        )
        assert status == 201, body
    return dict(body)


async def test_a_passed_theory_test_and_practical_exam_certify_for_six_months(
    api: Clients, services: Services
) -> None:
    assert (await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED))[0] == 201
    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    assert (status, body["error"]["field"]) == (409, "state")  # never certified

    status, body = await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("theory", 80, recommendations="Повторить ЭП")
    )
    assert status == 201, body
    assert (body["entry"]["passed"], body["entry"]["recommendations"]) == (True, "Повторить ЭП")
    assert body["certification"]["certified"] is False  # the practical exam is missing

    body = await certify(api, days_ago=0)
    until = add_months(local_date(services), 6).isoformat()
    assert body["certification"]["certified_until"] == until
    assert body["certification"]["certified"] is True
    assert (await api.supervisor.get("/v1/operators/op-1"))[1]["certified_until"] == until
    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    assert (status, body["state"]) == (200, "ready")

    # Exams older than six months leave an operator uncertified.
    await api.supervisor.put("/v1/operators/op-2", UNCERTIFIED)
    body = await certify(api, "op-2", days_ago=200)
    assert body["certification"]["certified"] is False
    assert body["certification"]["certified_until"] == (
        add_months(local_date(services, 200), 6).isoformat()
    )
    assert (await api.other_operator.post("/v1/operators/op-2/state", {"state": "ready"}))[0] == 409


async def test_the_earlier_of_the_latest_passed_test_and_exam_counts(
    api: Clients, services: Services
) -> None:
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    await api.supervisor.post("/v1/operators/op-1/certifications", exam("theory", 95, days_ago=40))
    await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("practical", 95, days_ago=3)
    )
    # A later failed test does not undo the passed one.
    status, body = await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("theory", 10, days_ago=1)
    )
    assert (status, body["entry"]["passed"]) == (201, False)
    expected = add_months(local_date(services, 40), 6).isoformat()
    assert body["certification"]["certified_until"] == expected

    # A score under the pass share certifies nothing.
    await api.supervisor.put("/v1/operators/op-2", UNCERTIFIED)
    await api.supervisor.post("/v1/operators/op-2/certifications", exam("theory", 90))
    status, body = await api.supervisor.post(
        "/v1/operators/op-2/certifications", exam("practical", 79.9)
    )
    assert (status, body["entry"]["passed"], body["certification"]["certified"]) == (
        201,
        False,
        False,
    )


async def test_a_correction_is_a_new_entry_and_the_corrected_one_counts_no_more(
    api: Clients,
) -> None:
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    body = await certify(api)
    wrong = body["entry"]["id"]
    status, body = await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("practical", 60, corrects=wrong)
    )
    assert status == 201, body
    assert (body["entry"]["corrects"], body["certification"]["certified"]) == (wrong, False)
    status, journal = await api.supervisor.get("/v1/operators/op-1/certifications")
    assert status == 200
    entries = {e["id"]: e for e in journal["entries"]}
    assert entries[wrong]["corrected_by"] == body["entry"]["id"]
    assert entries[wrong]["score"] == 90  # never edited
    assert len(entries) == 3

    status, again = await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("practical", 95, corrects=wrong)
    )
    assert (status, again["error"]["field"]) == (409, "corrects")
    await api.supervisor.put("/v1/operators/op-2", UNCERTIFIED)
    status, other = await api.supervisor.post(
        "/v1/operators/op-2/certifications", exam("practical", 95, corrects=wrong)
    )
    assert (status, other["error"]["field"]) == (422, "corrects")


async def test_a_lapse_takes_the_operator_off_the_line_and_leaves_its_contact(
    api: Clients,
) -> None:
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    body = await certify(api)
    await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    held = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    assert (await api.operator.post(f"/v1/contacts/{held}/accept"))[0] == 200

    # The practical exam was recorded wrongly: corrected to a fail, certification ends now.
    await api.supervisor.post(
        "/v1/operators/op-1/certifications",
        exam("practical", 30, corrects=body["entry"]["id"]),
    )
    assert (await api.operator.get("/v1/operators/op-1"))[1]["state"] == "break"
    waiting = (await api.integration.post("/v1/contacts", {**CALL, "phone": "+79120000002"}))[1]
    status, done = await api.operator.post(f"/v1/contacts/{held}/complete", {"outcome": "ok"})
    assert (status, done["state"]) == (200, "completed")
    assert (await api.operator.get("/v1/operators/op-1/offers"))[1]["offers"] == []
    assert (await api.supervisor.get(f"/v1/contacts/{waiting['id']}"))[1]["state"] == "waiting"
    status, _ = await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    assert status == 409

    await certify(api)  # renewed: it may work again
    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    assert status == 200
    offers = (await api.operator.get("/v1/operators/op-1/offers"))[1]["offers"]
    assert [o["contact_id"] for o in offers] == [waiting["id"]]


async def test_a_profile_written_back_as_read_does_not_pin_the_derived_date(
    api: Clients,
) -> None:
    # GET shows the date the exams give; PUTting the profile back unchanged must not import it,
    # or correcting the exams later would leave the operator certified by that import.
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    body = await certify(api)
    practical = body["entry"]["id"]
    status, profile = await api.supervisor.get("/v1/operators/op-1")
    assert status == 200 and profile["certified_until"] is not None
    written = {k: profile[k] for k in PAYMENTS_DESK if k in profile}
    assert (await api.supervisor.put("/v1/operators/op-1", written))[0] in (200, 201)

    status, body = await api.supervisor.post(
        "/v1/operators/op-1/certifications", exam("practical", 10, corrects=practical)
    )
    assert status == 201, body
    assert body["certification"]["certified"] is False
    _, journal = await api.supervisor.get("/v1/operators/op-1/certifications")
    assert [e["kind"] for e in journal["entries"]].count("imported") == 0


async def test_a_typed_date_is_imported_once_into_the_journal(api: Clients) -> None:
    assert (await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK))[0] == 201
    await api.supervisor.put("/v1/operators/op-1", {**PAYMENTS_DESK, "name": "Анна П."})
    _, journal = await api.supervisor.get("/v1/operators/op-1/certifications")
    assert [(e["kind"], e["valid_until"]) for e in journal["entries"]] == [
        ("imported", "2099-12-31")
    ]
    assert journal["certification"]["certified_until"] == "2099-12-31"
    status, body = await api.supervisor.put(
        "/v1/operators/op-1", {**PAYMENTS_DESK, "certified_until": "2098-01-31"}
    )
    assert (status, body["certified_until"]) == (200, "2098-01-31")
    _, journal = await api.supervisor.get("/v1/operators/op-1/certifications")
    assert len(journal["entries"]) == 2
    # Left out, the profile keeps what the journal gives.
    _, body = await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    assert body["certified_until"] == "2098-01-31"


async def test_bad_entries_are_422_naming_the_field(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    future = rfc3339(datetime.now(UTC) + timedelta(days=2))
    cases = [
        (exam("theory", 101), "score"),
        (exam("theory", -1), "score"),
        (exam("oral", 50), "kind"),
        (exam("theory", 50, max_score=0), "max_score"),
        ({**exam("theory", 50), "taken_at": future}, "taken_at"),
        ({**exam("theory", 50), "taken_at": "yesterday"}, "taken_at"),
        ({**exam("theory", 50), "taken_at": "0001-01-01T00:00:00+14:00"}, "taken_at"),
        ({**exam("theory", True)}, "score"),
        ({**exam("theory", 50), "examiner": ""}, "examiner"),
        (exam("theory", 50, corrects=999), "corrects"),
        ({**exam("theory", 50), "passed": True}, "passed"),
    ]
    for body, field in cases:
        status, answer = await api.supervisor.post("/v1/operators/op-1/certifications", body)
        assert (status, answer["error"]["field"]) == (422, field), (body, answer)
    _, journal = await api.supervisor.get("/v1/operators/op-1/certifications")
    assert journal["entries"] == []
    status, _ = await api.supervisor.post("/v1/operators/nobody/certifications", exam("theory", 9))
    assert status == 404
    assert (await api.supervisor.get("/v1/operators/nobody/certifications"))[0] == 404


async def test_supervisors_write_the_journal_and_an_operator_reads_its_own(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", UNCERTIFIED)
    await api.supervisor.put("/v1/operators/op-2", UNCERTIFIED)
    path = "/v1/operators/op-1/certifications"
    assert (await api.operator.post(path, exam("theory", 90)))[0] == 403
    assert (await api.integration.post(path, exam("theory", 90)))[0] == 403
    assert (await api.admin.post(path, exam("theory", 90)))[0] == 201
    assert (await api.operator.get(path))[0] == 200
    assert (await api.other_operator.get(path))[0] == 403
    assert (await api.integration.get(path))[0] == 403
    assert (await api.anonymous.get(path))[0] == 401
    assert (await api.operator.get("/v1/certifications/expiring"))[0] == 403


async def test_the_expiring_list_and_one_e_mail_per_lapse(api: Clients, services: Services) -> None:
    soon = (local_date(services) + timedelta(days=10)).isoformat()
    later = (local_date(services) + timedelta(days=40)).isoformat()
    await api.supervisor.put("/v1/operators/op-1", {**PAYMENTS_DESK, "certified_until": soon})
    await api.supervisor.put("/v1/operators/op-2", {**PAYMENTS_DESK, "certified_until": later})

    status, body = await api.supervisor.get("/v1/certifications/expiring")  # 30 days by default
    assert status == 200
    assert [
        (o["operator_id"], o["certified_until"], o["days_left"]) for o in body["operators"]
    ] == [("op-1", soon, 10)]
    _, body = await api.supervisor.get(
        "/v1/certifications/expiring", query_string={"within_days": "60"}
    )
    assert [o["operator_id"] for o in body["operators"]] == ["op-1", "op-2"]
    _, body = await api.supervisor.get(
        "/v1/certifications/expiring", query_string={"within_days": "5"}
    )
    assert body["operators"] == []
    for bad in ("-1", "367", "soon"):
        status, body = await api.supervisor.get(
            "/v1/certifications/expiring", query_string={"within_days": bad}
        )
        assert (status, body["error"]["field"]) == (422, "within_days")

    assert await send_lapse_notices(services) == 1  # op-1 lapses within 14 days
    assert await send_lapse_notices(services) == 0  # once per lapse
    mails = await services.store.read(lambda tx: list_messages(tx, limit=10))
    mail = next(m for m in mails if m.dedupe_key.startswith("certification:"))
    assert mail.recipient == services.settings.certification.supervisor_email
    assert "op-1" in (mail.subject or "")
    assert date.fromisoformat(soon).strftime("%d.%m.%Y") in mail.body
    # Another last day is another lapse: its own notice.
    sooner = (local_date(services) + timedelta(days=3)).isoformat()
    await api.supervisor.put("/v1/operators/op-1", {**PAYMENTS_DESK, "certified_until": sooner})
    assert await send_lapse_notices(services) == 1
