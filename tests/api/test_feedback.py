"""Feedback sorted by theme through the test client: complaints operators record, feedback forms,
the supervisors' list with its filters and masking, corrections kept, and the trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from quart import Quart
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from hotline.services import Services
from hotline.store import Tx
from hotline.store.feedback import FeedbackSource, add_feedback
from tests.api.conftest import Clients, Tokens, auth
from tests.api.test_contacts import CALL, ready_desk

DAY = 86_400.0
# A Monday two to three weeks ago: recent enough that the retention sweep (90 days as shipped,
# running in the app under test) has not taken the comments' text and terms.
_RECENT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=14)
T0 = (_RECENT - timedelta(days=_RECENT.weekday())).timestamp()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def held_contact(api: Clients) -> str:
    await ready_desk(api)
    cid: str = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    status, body = await api.operator.post(f"/v1/contacts/{cid}/accept")
    assert status == 200, body
    return cid


async def seed(services: Services, *comments: tuple[float, str | None, str]) -> list[int]:
    """Comments written as a survey would write them, at the given times."""

    async def work(tx: Tx) -> list[int]:
        return [
            await add_feedback(
                tx,
                source=FeedbackSource.SURVEY,
                source_id=f"s-{n}",
                text=text,
                topic=topic,
                operator_id="op-1",
                at=at,
            )
            for n, (at, topic, text) in enumerate(comments)
        ]

    return await services.store.transact(work)


async def test_an_operator_records_a_complaint_about_the_contact_it_holds(api: Clients) -> None:
    cid = await held_contact(api)
    text = "Ждал 40 минут, а ответ оказался неверным"

    status, body = await api.operator.post(f"/v1/contacts/{cid}/complaints", {"text": text})

    assert status == 201, body
    assert (body["source"], body["topic"], body["operator_id"]) == ("complaint", "payments", "op-1")
    assert body["categories"] == ["wait_time", "wrong_answer"]
    assert body["auto_categories"] == body["categories"]
    assert body["source_id"].startswith(f"{cid}:")
    again = await api.operator.post(f"/v1/contacts/{cid}/complaints", {"text": text})
    assert (again[0], again[1]["id"]) == (200, body["id"])  # a retry: the same complaint


async def test_only_the_operator_holding_it_or_a_supervisor_records_a_complaint(
    api: Clients,
) -> None:
    cid = await held_contact(api)
    complaint = {"text": "Оператор не помог"}

    assert (await api.other_operator.post(f"/v1/contacts/{cid}/complaints", complaint))[0] == 404
    assert (await api.integration.post(f"/v1/contacts/{cid}/complaints", complaint))[0] == 403
    assert (await api.supervisor.post(f"/v1/contacts/{cid}/complaints", complaint))[0] == 201
    assert (await api.supervisor.post("/v1/contacts/c_nope/complaints", complaint))[0] == 404
    await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
    assert (await api.operator.post(f"/v1/contacts/{cid}/complaints", {"text": "ещё"}))[0] == 404


async def test_a_complaint_without_text_is_422_naming_it(api: Clients) -> None:
    cid = await held_contact(api)
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x" * 4001}, {"text": 5}):
        status, answer = await api.operator.post(f"/v1/contacts/{cid}/complaints", body)
        assert (status, answer["error"]["field"]) == (422, "text"), body


async def test_a_recommendation_form_is_feedback_and_a_technical_one_is_not(
    app: Quart, tokens: Tokens, api: Clients
) -> None:
    fields = {
        "phone": "+7 916 123-45-67",
        "full_name": "Иванова Мария Петровна",
        "email": "maria@example.ru",
    }
    for kind, text in (
        ("recommendation", "Предлагаю добавить обратный звонок. Мой телефон +7 916 123-45-67"),
        ("technical", "Не загружается скан паспорта"),
    ):
        boundary, data = encode_multipart(MultiDict({**fields, "type": kind, "description": text}))
        response = await app.test_client().post(
            "/v1/forms/feedback",
            data=data,
            headers={
                **auth(tokens.integration),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert response.status_code == 201

    status, page = await api.supervisor.get("/v1/feedback")
    assert status == 200
    [item] = page["feedback"]
    assert (item["source"], item["categories"], item["topic"]) == (
        "form",
        ["suggestion"],
        "applications",
    )
    assert item["text"] == "Предлагаю добавить обратный звонок. Мой телефон +7 916 *** ** 67"


async def test_the_list_masks_numbers_filters_and_pages(api: Clients, services: Services) -> None:
    ids = await seed(
        services,
        (T0, "payments", "Спасибо! Мой ИНН 500100732259"),
        (T0 + 10, "applications", "очень долго ждал, СНИЛС 112-233-445 95"),
        (T0 + 20, "payments", "Долгое ожидание и спасибо"),
    )

    status, page = await api.supervisor.get("/v1/feedback", query_string={"limit": 2})
    assert status == 200
    assert [f["id"] for f in page["feedback"]] == ids[:2]
    assert page["feedback"][0]["text"] == "Спасибо! Мой ИНН **********59"
    assert page["feedback"][1]["text"] == "очень долго ждал, СНИЛС ***-***-*** 95"
    rest = await api.supervisor.get("/v1/feedback", query_string={"cursor": page["next_cursor"]})
    assert ([f["id"] for f in rest[1]["feedback"]], rest[1]["next_cursor"]) == ([ids[2]], None)

    async def listed(**query: Any) -> list[int]:
        status, body = await api.supervisor.get("/v1/feedback", query_string=query)
        assert status == 200, body
        return [f["id"] for f in body["feedback"]]

    assert await listed(category="thanks") == [ids[0], ids[2]]
    assert await listed(category="wait_time", topic="payments") == [ids[2]]
    assert await listed(**{"from": iso(T0 + 10)}) == ids[1:]
    assert await listed(to=iso(T0 + 10)) == ids[:1]


async def test_bad_list_queries_are_422_naming_the_field(api: Clients) -> None:
    for query, field in (
        ({"category": "praise"}, "category"),
        ({"from": "yesterday"}, "from"),
        ({"from": iso(T0), "to": iso(T0)}, "to"),
        ({"limit": 0}, "limit"),
        ({"cursor": "zzz"}, "cursor"),
    ):
        status, body = await api.supervisor.get("/v1/feedback", query_string=query)
        assert (status, body["error"]["field"]) == (422, field), query
    assert (await api.operator.get("/v1/feedback"))[0] == 403


async def test_a_correction_becomes_the_label_and_every_correction_is_kept(
    api: Clients, services: Services
) -> None:
    [fid] = await seed(services, (T0, "payments", "Спасибо за помощь"))

    status, body = await api.supervisor.put(
        f"/v1/feedback/{fid}/category", {"categories": ["thanks", "wait_time"]}
    )
    assert status == 200, body
    assert body["categories"] == ["wait_time", "thanks"]  # in the themes' order
    status, body = await api.supervisor.put(
        f"/v1/feedback/{fid}/category", {"categories": ["other"]}
    )
    assert (body["categories"], body["auto_categories"]) == (["other"], ["thanks"])
    status, shown = await api.supervisor.get(f"/v1/feedback/{fid}")
    assert status == 200
    assert [(c["previous"], c["categories"]) for c in shown["corrections"]] == [
        (["thanks"], ["wait_time", "thanks"]),
        (["wait_time", "thanks"], ["other"]),
    ]
    assert shown["corrected_at"] is not None
    assert [
        f["id"] for f in (await api.supervisor.get("/v1/feedback?category=other"))[1]["feedback"]
    ] == [fid]


async def test_a_bad_correction_is_refused(api: Clients, services: Services) -> None:
    [fid] = await seed(services, (T0, None, "спасибо"))
    for categories in ([], ["praise"], ["thanks", "thanks"], ["other", "thanks"], "thanks"):
        status, body = await api.supervisor.put(
            f"/v1/feedback/{fid}/category", {"categories": categories}
        )
        assert status == 422, categories
        assert body["error"]["field"].startswith("categories"), body  # `categories.0`: the item
    missing = await api.supervisor.put(
        f"/v1/feedback/{fid + 1}/category", {"categories": ["other"]}
    )
    assert missing[0] == 404
    assert (await api.operator.put(f"/v1/feedback/{fid}/category", {"categories": ["other"]}))[
        0
    ] == 403


async def test_trends_count_themes_and_list_the_terms_that_rose(
    api: Clients, services: Services
) -> None:
    week = 7 * DAY
    await seed(
        services,
        # the week before: one complaint about the wait
        (T0 - 3 * DAY, "payments", "Долгое ожидание на линии"),
        (T0 - 2 * DAY, "payments", "Спасибо за консультацию"),
        # this week: the SMS code fails for many, the wait as before
        (T0 + DAY, "payments", "Не приходит смс с кодом, долгое ожидание"),
        (T0 + 2 * DAY, "registration", "смс с кодом не приходит третий день"),
        (T0 + 3 * DAY, "registration", "Где смс с кодом?? Спасибо"),
        (T0 + week, "payments", "после периода: не считается"),
    )

    status, body = await api.supervisor.get(
        "/v1/quality/trends", query_string={"from": iso(T0), "to": iso(T0 + week), "by": "topic"}
    )

    assert status == 200, body
    assert moment(body["previous_start"]) == T0 - week
    assert (moment(body["start"]), moment(body["end"])) == (T0, T0 + week)
    total = body["total"]
    assert total["total"] == 3
    assert (total["categories"]["wait_time"], total["categories"]["thanks"]) == (1, 1)
    assert total["categories"]["other"] == 1
    rising = {r["term"]: (r["count"], r["previous"], r["rise"]) for r in total["rising_terms"]}
    assert rising["смс"] == (3, 0, 3)
    assert rising["код"] == (3, 0, 3)
    assert "ожидан" not in rising  # one comment now, one before: it did not rise
    assert total["rising_terms"][0]["rise"] == 3
    groups = {g["group"]: g for g in body["groups"]}
    assert [g["group"] for g in body["groups"]] == ["registration", "payments"]
    assert groups["registration"]["total"] == 2
    assert groups["payments"]["categories"]["wait_time"] == 1


async def test_bad_trend_queries_are_422_naming_the_field(api: Clients) -> None:
    for query, field in (
        ({"to": iso(T0)}, "from"),
        ({"from": iso(T0)}, "to"),
        ({"from": iso(T0), "to": iso(T0 - DAY)}, "to"),
        ({"from": iso(T0), "to": iso(T0 + 400 * DAY)}, "to"),
        ({"from": iso(T0), "to": iso(T0 + DAY), "by": "operator"}, "by"),
        ({"from": "0001-01-01T00:00:00Z", "to": "0001-06-01T00:00:00Z"}, "from"),
    ):
        status, body = await api.supervisor.get("/v1/quality/trends", query_string=query)
        assert (status, body["error"]["field"]) == (422, field), query
    status, _ = await api.operator.get(
        "/v1/quality/trends", query_string={"from": iso(T0), "to": iso(T0 + DAY)}
    )
    assert status == 403
