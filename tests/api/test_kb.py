"""The knowledge base through the API: articles and their versions, who may write and read,
search with Russian morphology, templates rendered for a ticket or a contact, uses and reports."""

# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from quart import Quart

from hotline.services import Services
from hotline.store import Tx
from hotline.store.kb_usage import SearchRecord, record_search
from tests.api.conftest import PAYMENTS_DESK, Api, Clients, Tokens

ARTICLE = {
    "title": "Пособие на ребёнка: как оформить",
    "body": "Единое пособие на ребёнка оформляется заявлением. Срок рассмотрения — 10 дней.",
    "topics": ["payments"],
    "tags": ["детские"],
    "status": "published",
    "review_by": "2099-01-01",
}


def q(text: str) -> str:
    return quote(text)


async def create(api: Api, **extra: Any) -> dict[str, Any]:
    status, body = await api.post("/v1/kb/articles", {**ARTICLE, **extra})
    assert status == 201, body
    return dict(body)


async def search(api: Api, text: str, **params: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={q(v)}" for k, v in {"q": text, **params}.items())
    status, body = await api.get(f"/v1/kb/search?{query}")
    assert status == 200, body
    return list(body["articles"])


async def test_every_edit_is_a_version_with_who_when_and_what_changed(
    app: Quart, tokens: Tokens
) -> None:
    editor = Api(app, tokens.editor)
    article = await create(editor, status="draft", note="first draft")
    assert (article["version"], article["status"], article["author"]) == (1, "draft", "editor")
    path = f"/v1/kb/articles/{article['id']}"

    status, edited = await editor.put(
        path, {"title": "Пособие на ребёнка", "status": "published", "version": 1, "note": "ok"}
    )
    assert (status, edited["version"], edited["status"]) == (200, 2, "published")

    status, body = await editor.get(f"{path}/versions")
    assert status == 200
    versions = body["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["changed"] == ["created"] and versions[0]["note"] == "first draft"
    assert versions[1]["changed"] == ["title", "status"] and versions[1]["editor"] == "editor"
    # The earlier version is readable as it was.
    status, first = await editor.get(f"{path}/versions/1")
    assert (status, first["title"], first["status"]) == (200, ARTICLE["title"], "draft")
    # An edit made against an old version is refused: someone else's came first.
    status, body = await editor.put(path, {"body": "другой текст", "version": 1})
    assert (status, body["error"]["field"]) == (409, "version")
    # Nothing changed: no new version.
    status, same = await editor.put(path, {"title": "Пособие на ребёнка"})
    assert (status, same["version"]) == (200, 2)


async def test_operators_read_published_articles_only_and_never_write(
    api: Clients, app: Quart, tokens: Tokens
) -> None:
    draft = await create(api.supervisor, status="draft")
    published = await create(api.supervisor)
    assert (await api.operator.get(f"/v1/kb/articles/{published['id']}"))[0] == 200
    assert (await api.operator.get(f"/v1/kb/articles/{draft['id']}"))[0] == 404
    assert (await api.operator.get(f"/v1/kb/articles/{draft['id']}/versions"))[0] == 404
    status, page = await api.operator.get("/v1/kb/articles?limit=200")
    assert status == 200 and {a["status"] for a in page["articles"]} == {"published"}
    assert (await api.operator.get("/v1/kb/articles?status=draft"))[0] == 403
    assert (await api.operator.post("/v1/kb/articles", ARTICLE))[0] == 403
    assert (await api.integration.get("/v1/kb/search?q=x"))[0] == 403


async def test_status_steps_follow_the_lifecycle(api: Clients) -> None:
    path = f"/v1/kb/articles/{(await create(api.supervisor))['id']}"
    status, body = await api.supervisor.put(path, {"status": "draft"})
    assert (status, body["error"]["field"]) == (409, "status")
    assert (await api.supervisor.put(path, {"status": "archived"}))[0] == 200
    assert (await api.supervisor.put(path, {"status": "draft"}))[0] == 200


async def test_bad_articles_are_422_naming_the_field(api: Clients) -> None:
    cases = [
        ({"topics": ["no_such_topic"]}, "topics"),
        ({"language": "xx"}, "language"),
        ({"title": ""}, "title"),
        ({"kind": "template", "body": "Здравствуйте, {имя}!"}, "body"),
        ({"status": "archived"}, "status"),
        ({"review_by": "не дата"}, "review_by"),
    ]
    for change, field in cases:
        status, body = await api.supervisor.post("/v1/kb/articles", {**ARTICLE, **change})
        assert (status, body["error"].get("field")) == (422, field), change


async def test_search_handles_russian_word_forms_yo_and_the_word_being_typed(
    api: Clients,
) -> None:
    child = await create(api.supervisor)
    for query in ("пособий для детей", "пособия на ребенка", "ПОСОБИЕ НА РЕБЁНКА", "пособ"):
        found = await search(api.operator, query)
        assert child["id"] in [a["id"] for a in found[:3]], query
    # The starter base: «восстановить пароль» finds the article on restoring a password.
    [best, *_] = await search(api.operator, "восстановить пароль")
    assert "восстановить доступ" in best["title"]
    assert "<mark>пароль</mark>" in best["snippet"] or "<mark>пароля</mark>" in best["snippet"]
    # A misspelt word is read as the indexed word it is closest to.
    status, body = await api.operator.get(f"/v1/kb/search?q={q('пороль')}")
    assert status == 200 and body["corrections"] == {"пороль": ["парол"]}
    assert "пароль" in body["articles"][0]["title"]


async def test_search_sees_published_articles_only_and_filters_by_topic(api: Clients) -> None:
    article = await create(api.supervisor, title="Справка о зелёных слонах", tags=[])
    assert [a["id"] for a in await search(api.operator, "слоны")] == [article["id"]]
    assert await search(api.operator, "слоны", topic="signature") == []
    await api.supervisor.put(f"/v1/kb/articles/{article['id']}", {"status": "archived"})
    assert await search(api.operator, "слоны") == []
    status, body = await api.operator.get("/v1/kb/search?q=" + q("как"))
    assert status == 200  # only stop words: searched as they are, not refused
    status, body = await api.operator.get("/v1/kb/search?q=" + q("!!!"))
    assert (status, body["error"]["field"]) == (422, "q")


async def take_a_contact(api: Clients) -> str:
    assert (await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK))[0] in (200, 201)
    assert (await api.operator.post("/v1/operators/op-1/state", {"state": "ready"}))[0] == 200
    call = {"channel": "voice", "topic": "payments", "phone": "+79161234567"}
    status, contact = await api.integration.post("/v1/contacts", call)
    assert status == 201, contact
    assert (await api.operator.post(f"/v1/contacts/{contact['id']}/accept"))[0] == 200
    return str(contact["id"])


async def test_a_use_answers_the_searches_before_it_and_unanswered_ones_are_gaps(
    api: Clients, services: Services
) -> None:
    contact_id = await take_a_contact(api)
    article = await create(api.supervisor)
    await search(api.operator, "пособие на ребенка", contact_id=contact_id)
    assert await search(api.operator, "зеленые слоны") == []  # found nothing: a gap at once
    status, use = await api.operator.post(
        f"/v1/contacts/{contact_id}/articles", {"article_id": article["id"], "helpful": False}
    )
    assert (status, use["searches_answered"], use["version"]) == (201, 1, 1)
    # Another operator did not take this contact: to it, the contact is not there.
    body = {"article_id": article["id"], "helpful": True}
    assert (await api.other_operator.post(f"/v1/contacts/{contact_id}/articles", body))[0] == 404
    for _ in range(2):
        await api.supervisor.post(f"/v1/contacts/{contact_id}/articles", body)

    # A search an hour old after which nothing was used is a gap too.
    record = SearchRecord("где мой полис", "мой полис", 3, "tok_x", "op-2", None)
    hour_ago = services.clock.now() - 3600

    async def old_search(tx: Tx) -> None:
        await record_search(tx, record, at=hour_ago)

    await services.store.transact(old_search)
    status, reports = await api.supervisor.get("/v1/kb/reports")
    assert status == 200, reports
    assert reports["most_used"][0] == {
        "article_id": article["id"],
        "title": ARTICLE["title"],
        "uses": 3,
        "helpful": 2,
    }
    assert reports["least_helpful"][0]["article_id"] == article["id"]
    gaps = {g["query"]: g for g in reports["no_answer"]}
    assert set(gaps) == {"зеленые слоны", "мой полис"}, gaps  # the answered search is no gap
    assert gaps["зеленые слоны"]["found_nothing"] == 1
    assert (await api.operator.get("/v1/kb/reports"))[0] == 403


async def test_articles_past_their_review_date_are_reported(api: Clients) -> None:
    old = await create(api.supervisor, review_by="2020-01-01")
    await create(api.supervisor, review_by="2020-01-01", status="draft")
    status, reports = await api.supervisor.get("/v1/kb/reports")
    assert status == 200
    assert [d["article_id"] for d in reports["past_review"]] == [old["id"]]


async def test_a_template_is_rendered_for_a_ticket_or_the_contact_it_is_linked_to(
    api: Clients,
) -> None:
    template = await create(
        api.supervisor,
        kind="template",
        title="Обращение зарегистрировано",
        body="Здравствуйте, {full_name}! Номер обращения: {ticket_number} ({ticket_status}).",
    )
    ticket = {
        "topic": "payments",
        "phone": "+79161234567",
        "description": "Выплата задерживается",
        "full_name": "Иванова Мария Петровна",
    }
    status, created = await api.integration.post("/v1/tickets", ticket)
    assert status == 201, created
    number = created["number"]
    path = f"/v1/kb/templates/{template['id']}/render"
    status, out = await api.supervisor.post(path, {"ticket_number": number})
    assert status == 200, out
    assert out["text"] == (
        f"Здравствуйте, Иванова Мария Петровна! Номер обращения: {number} (Принято)."
    )
    # For a contact the operator took: its linked ticket.
    contact_id = await take_a_contact(api)
    link = {"contact_id": contact_id}
    assert (await api.operator.post(f"/v1/tickets/{number}/contacts", link))[0] == 200
    status, out = await api.operator.post(path, {"contact_id": contact_id})
    assert (status, out["ticket_number"]) == (200, number), out
    # Nothing to fill {ticket_number} from: refused, naming it.
    status, body = await api.supervisor.post(path, {})
    assert (status, body["error"]["field"]) == (422, "full_name"), body
    # An article is not a template.
    article = await create(api.supervisor)
    status, _ = await api.supervisor.post(f"/v1/kb/templates/{article['id']}/render", {})
    assert status == 404


async def test_the_starter_templates_render_the_lines_next_opening(api: Clients) -> None:
    status, page = await api.operator.get("/v1/kb/articles?kind=template")
    assert status == 200
    closed = next(t for t in page["articles"] if "{opens_at}" in t["body"])
    status, out = await api.operator.post(f"/v1/kb/templates/{closed['id']}/render", {})
    assert status == 200, out
    assert "{" not in out["text"] and "(московское время)" in out["text"]


async def test_a_phone_typed_into_a_search_is_masked_in_the_report(api: Clients) -> None:
    # Editors read the "no answer" list; a query typed during a call may hold the citizen's
    # phone: it is kept masked, and its digits are not among the query's words.
    assert await search(api.operator, "абырвалг 89123456789") == []

    status, reports = await api.supervisor.get("/v1/kb/reports")

    assert status == 200, reports
    [gap] = reports["no_answer"]
    assert "3456" not in str(gap), gap
    assert gap["query"] == "абырвалг" and "+7 912" in gap["example"], gap
