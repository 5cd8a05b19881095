"""Quality evaluations through the API: a supervisor scores a handled contact on the shipped
scorecard, and the figures by operator show the average and the failed criticals beside the
operator's certification."""

from __future__ import annotations

from typing import Any

from hotline.services import Services
from tests.api.conftest import PAYMENTS_DESK, Clients
from tests.api.test_stats import a_handled_call, window
from tests.figures import FIGURES

QUALITY = {"evaluations", "evaluation_score", "evaluations_failed", "failed_criticals"}

ALL_MET = {
    "greeting": True,
    "identity": True,
    "need": True,
    "correct_answer": True,
    "ticket": True,
    "summary": True,
    "politeness": True,
}


def evaluation(**answers: bool) -> dict[str, Any]:
    return {"scorecard": "call", "answers": {**ALL_MET, **answers}, "comment": "разбор"}


async def test_a_supervisor_scores_a_handled_contact(api: Clients, services: Services) -> None:
    cid = await a_handled_call(api)
    status, body = await api.supervisor.post(f"/v1/contacts/{cid}/evaluations", evaluation())
    assert status == 201, body
    assert (body["operator_id"], body["score"], body["passed"]) == ("op-1", 1.0, True)

    # greeting (1) and ticket (2) of 15: 12/15 = 0.8, the pass share; no critical failed.
    status, body = await api.supervisor.post(
        f"/v1/contacts/{cid}/evaluations", evaluation(greeting=False, ticket=False)
    )
    assert (body["score"], body["passed"], body["failed_criticals"]) == (0.8, True, [])
    # A critical question not met fails it, whatever the score (14/15).
    status, body = await api.supervisor.post(
        f"/v1/contacts/{cid}/evaluations", evaluation(summary=True, politeness=False)
    )
    assert (body["passed"], body["failed_criticals"]) == (False, ["politeness"])
    assert round(body["score"], 4) == round(13 / 15, 4)

    status, listing = await api.supervisor.get(f"/v1/contacts/{cid}/evaluations")
    assert (status, len(listing["evaluations"])) == (200, 3)

    status, report = await api.supervisor.get(
        "/v1/stats", query_string=window(services, interval="1d", by="operator")
    )
    assert status == 200, report
    keys = {*FIGURES, "start", "end", "group", *QUALITY, "certified_until"}
    assert all(set(r) == keys for r in report["rows"])  # every row, evaluated or not
    row = next(r for r in report["rows"] if r["evaluations"])
    assert (row["group"], row["evaluations"], row["evaluations_failed"]) == ("op-1", 3, 1)
    assert row["failed_criticals"] == 1
    assert round(row["evaluation_score"], 4) == round((1 + 0.8 + 13 / 15) / 3, 4)
    assert row["certified_until"] == PAYMENTS_DESK["certified_until"]
    assert set(report["total"]) == set(FIGURES)  # the line's FIGURES are unchanged
    _, by_topic = await api.supervisor.get(
        "/v1/stats", query_string=window(services, interval="1d", by="topic")
    )
    assert not QUALITY & set(by_topic["rows"][0])


async def test_bad_evaluations_are_refused_naming_the_field(api: Clients) -> None:
    cid = await a_handled_call(api)
    path = f"/v1/contacts/{cid}/evaluations"
    missing = evaluation()
    del missing["answers"]["ticket"]
    cases = [
        (missing, "answers.ticket"),
        (evaluation(astrology=True), "answers.astrology"),
        ({**evaluation(), "scorecard": "chat"}, "scorecard"),
        ({**evaluation(), "answers": {**ALL_MET, "greeting": "yes"}}, "answers.greeting"),
    ]
    for body, field in cases:
        status, answer = await api.supervisor.post(path, body)
        assert (status, answer["error"]["field"]) == (422, field), (body, answer)
    assert (await api.supervisor.get(path))[1]["evaluations"] == []

    waiting = (
        await api.integration.post(
            "/v1/contacts", {"channel": "chat", "topic": "documents", "phone": "+79120000003"}
        )
    )[1]["id"]
    status, answer = await api.supervisor.post(f"/v1/contacts/{waiting}/evaluations", evaluation())
    assert status == 409, answer
    assert (await api.supervisor.post("/v1/contacts/nothing/evaluations", evaluation()))[0] == 404
    assert (await api.supervisor.get("/v1/contacts/nothing/evaluations"))[0] == 404


async def test_only_supervisors_evaluate(api: Clients) -> None:
    cid = await a_handled_call(api)
    path = f"/v1/contacts/{cid}/evaluations"
    for client in (api.operator, api.integration):
        assert (await client.post(path, evaluation()))[0] == 403
        assert (await client.get(path))[0] == 403
    assert (await api.anonymous.post(path, evaluation()))[0] == 401
    assert (await api.admin.post(path, evaluation()))[0] == 201
