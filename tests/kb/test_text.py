"""The knowledge base's pure parts: stems and the FTS5 query, close spellings, the snippet,
the article rules and templates."""

# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from hotline.domain.errors import Conflict, Invalid
from hotline.kb.articles import ArticleDraft, Kind, Status, changed_fields, check_draft, check_step
from hotline.kb.snippet import marked_words, snippet
from hotline.kb.spelling import close_spellings, edit_distance
from hotline.kb.templates import render
from hotline.kb.text import (
    Option,
    match_expression,
    query_options,
    query_terms,
    stem,
    stems,
    widest,
)


def test_word_forms_share_a_stem_and_yo_is_e() -> None:
    assert stem("пароля") == stem("пароль") == stem("пароли")
    assert stem("ребёнка") == stem("ребенка")
    assert stems("Восстановление ПАРОЛЯ") == "восстановлен парол"
    assert stems("recovering passwords") == "recov password"


def test_a_query_drops_function_words_and_keeps_the_last_word_as_typed() -> None:
    terms = query_terms("Как мне восстановить пар")
    assert terms.words == ("восстановить", "пар") and terms.typed == "пар"
    assert query_terms("как восстановить пароль ").typed is None
    assert query_terms("как").words == ("как",)  # only function words: searched as they are
    assert query_terms("!!!").empty
    # Quoted, so FTS5 operators typed by a citizen are words ("or" is a stop word).
    groups = query_options(query_terms("восстановить пароль OR NEAR"))
    assert match_expression(groups.values()) == '"восстанов"* OR "парол"* OR "near"*'
    assert match_expression(groups.values(), every=True) == '"восстанов"* AND "парол"* AND "near"*'


def test_an_option_another_covers_is_left_out_of_the_widest() -> None:
    typed = query_options(query_terms("как проверить заявление"))["заявление"]
    assert typed == (Option("заявлен", True), Option("заявление", True))
    assert widest(typed) == (Option("заявлен", True),)
    corrected = (Option("парол", True), Option("пароль", False), Option("порог", False))
    assert widest(corrected) == (Option("парол", True), Option("порог", False))
    assert widest((Option("код", False), Option("кодекс", True))) == (
        Option("код", False),
        Option("кодекс", True),
    )


def test_a_misspelling_is_read_as_the_nearest_indexed_spelling() -> None:
    assert edit_distance("порол", "парол", 2) == 1
    assert edit_distance("заявлние", "заявление", 1) == 1
    assert edit_distance("подпесь", "подпись", 1) == 1
    assert close_spellings("порол", ["парол", "порог", "полис"]) == ["парол", "порог"]
    assert close_spellings("код", ["кот"]) == []  # too short to guess
    assert close_spellings("парол", ["парол", "порол"]) == []  # it is a word already


def test_the_snippet_marks_the_words_the_index_matched_and_escapes_the_rest() -> None:
    body = "## Сброс\nЕсли <b>забыли</b> пароль, нажмите «Восстановить пароль».\n" + "слово " * 50
    options = query_options(query_terms("восстановить пароли")).values()
    marks = marked_words(stems(body), [o for group in options for o in group])
    assert marks[:9] == [False, False, False, False, False, True, False, True, True]
    text = snippet(body, marks)
    assert "<mark>Восстановить</mark> <mark>пароль</mark>" in text
    assert "&lt;b&gt;забыли&lt;/b&gt;" in text and "##" not in text
    assert text.endswith("…")


def draft(**changes: object) -> ArticleDraft:
    base = ArticleDraft(
        "Заголовок", "Текст", ("documents",), (), "ru", Status.DRAFT, None, Kind.ARTICLE
    )
    return base.with_changes(**changes)


def test_status_steps_and_what_an_edit_changed() -> None:
    check_step(Status.DRAFT, Status.PUBLISHED)
    check_step(Status.ARCHIVED, Status.DRAFT)
    with pytest.raises(Conflict):
        check_step(Status.PUBLISHED, Status.DRAFT)
    assert changed_fields(draft(), draft(title="Другой", tags=("x",))) == ["title", "tags"]


def test_a_template_names_known_placeholders_and_renders_only_when_all_are_given() -> None:
    rules = {"topics": frozenset({"documents"}), "languages": frozenset({"ru"})}
    check_draft(draft(kind=Kind.TEMPLATE, body="{full_name}, номер {ticket_number}"), **rules)
    with pytest.raises(Invalid, match="unknown placeholder"):
        check_draft(draft(kind=Kind.TEMPLATE, body="{fullname}"), **rules)
    body = "{full_name}, ваше обращение {ticket_number}"
    assert (
        render(body, {"full_name": "Анна", "ticket_number": "HL-1"}) == "Анна, ваше обращение HL-1"
    )
    with pytest.raises(Invalid) as caught:
        render(body, {"full_name": "Анна", "ticket_number": None})
    assert caught.value.field == "ticket_number"


def test_a_topic_since_removed_from_the_configuration_renders_as_no_topic() -> None:
    # A contact keeps its topic when the configuration drops it: rendering a template for it
    # must not fail (a KeyError was a 500).
    from types import SimpleNamespace
    from typing import Any, cast

    from hotline.services.kb_templates import _topic_label

    sv = cast(
        Any,
        SimpleNamespace(
            settings=SimpleNamespace(topics={"payments": SimpleNamespace(label="Выплаты")})
        ),
    )
    assert _topic_label(sv, "payments") == "Выплаты"
    assert _topic_label(sv, "gone") is None
    assert _topic_label(sv, None) is None
