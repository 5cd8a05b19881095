"""The theme classifier's rules of matching: stems, `ё`, prefixes, typos, negation, several themes
in one comment, a phrase over its own words, and rules refused for what they say."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.quality.themes import RulesError, Theme, ThemeClassifier, one_typo_apart, terms

RULES = {
    "wait_time": ["ожидание", "долго*", "не дозвониться"],
    "wrong_answer": ["неверный", "не помогли"],
    "suggestion": ["добавьте", "предлагаю"],
    "thanks": ["спасибо", "благодар*", "помогли"],
    "new_service": ["добавьте услугу"],
}


@pytest.fixture(scope="module")
def themes() -> ThemeClassifier:
    return ThemeClassifier(RULES)


def test_a_word_matches_in_any_form_and_case(themes: ThemeClassifier) -> None:
    assert themes.classify("ОЖИДАНИЯ на линии") == (Theme.WAIT_TIME,)
    assert themes.classify("дали НЕВЕРНУЮ информацию") == (Theme.WRONG_ANSWER,)


def test_yo_reads_as_ye_in_text_and_rules() -> None:
    classifier = ThemeClassifier({"wait_time": ["ждём"]})
    assert classifier.classify("ждем ответа") == (Theme.WAIT_TIME,)
    assert classifier.classify("ЖДЁМ ответа") == (Theme.WAIT_TIME,)


def test_a_starred_word_is_a_prefix(themes: ThemeClassifier) -> None:
    assert themes.classify("Благодарю!") == (Theme.THANKS,)
    assert themes.classify("выражаю благодарность") == (Theme.THANKS,)
    assert themes.classify("долгое ожидание") == (Theme.WAIT_TIME,)


def test_a_long_word_matches_one_typo_away(themes: ThemeClassifier) -> None:
    assert themes.classify("ожидане было") == (Theme.WAIT_TIME,)  # a letter left out
    assert themes.classify("неверрный ответ") == (Theme.WRONG_ANSWER,)  # a letter added


def test_a_short_word_must_be_exact() -> None:
    classifier = ThemeClassifier({"thanks": ["спс"]})
    assert classifier.classify("спз") == (Theme.OTHER,)


def test_a_negation_turns_a_word_off_and_a_negated_phrase_on(themes: ThemeClassifier) -> None:
    assert themes.classify("мне помогли") == (Theme.THANKS,)
    assert themes.classify("мне не помогли") == (Theme.WRONG_ANSWER,)
    assert themes.classify("не могу до вас не дозвониться") == (Theme.WAIT_TIME,)


def test_a_comment_carries_every_theme_it_mentions_in_fixed_order(
    themes: ThemeClassifier,
) -> None:
    assert themes.classify("Спасибо, но ожидание было долгим") == (Theme.WAIT_TIME, Theme.THANKS)


def test_a_phrase_holds_the_words_of_another_theme_within_it() -> None:
    classifier = ThemeClassifier(
        {"thanks": ["спасибо за ожидание", "спасибо"], "wait_time": ["ожидание"]}
    )
    assert classifier.classify("Спасибо за ожидание!") == (Theme.THANKS,)
    assert classifier.classify("Спасибо, ожидание было ок") == (Theme.WAIT_TIME, Theme.THANKS)
    assert classifier.classify("Ожидание") == (Theme.WAIT_TIME,)


def test_a_new_service_absorbs_a_suggestion(themes: ThemeClassifier) -> None:
    assert themes.classify("Добавьте кнопку назад") == (Theme.SUGGESTION,)
    assert themes.classify("Добавьте услугу записи к нотариусу") == (Theme.NEW_SERVICE,)
    assert themes.classify("Предлагаю: добавьте услугу") == (Theme.NEW_SERVICE,)


def test_words_of_politeness_do_not_break_a_phrase(themes: ThemeClassifier) -> None:
    assert themes.classify("Добавьте, пожалуйста, услугу") == (Theme.NEW_SERVICE,)


def test_an_exact_word_is_neither_stemmed_nor_a_prefix() -> None:
    classifier = ThemeClassifier({"wait_time": ["=долго"]})
    assert classifier.classify("очень долго") == (Theme.WAIT_TIME,)
    assert classifier.classify("справка об отсутствии долгов") == (Theme.OTHER,)


def test_nothing_matched_is_other_and_only_other(themes: ThemeClassifier) -> None:
    assert themes.classify("Где мой паспорт") == (Theme.OTHER,)
    assert themes.classify("") == (Theme.OTHER,)
    assert ThemeClassifier({}).classify("спасибо") == (Theme.OTHER,)


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ({"praise": ["спасибо"]}, "not a theme"),
        ({"other": ["прочее"]}, "`other` has no rules"),
        ({"thanks": ["спасибо!"]}, "not one word"),
        ({"thanks": ["  "]}, "an empty rule"),
    ],
)
def test_rules_that_cannot_work_are_refused(rules: dict[str, list[str]], says: str) -> None:
    with pytest.raises(RulesError, match=says):
        ThemeClassifier(rules)


def test_one_typo_apart() -> None:
    assert one_typo_apart("ожидан", "ожидан")
    assert one_typo_apart("ожидан", "ожидн")  # left out
    assert one_typo_apart("ожидан", "ожиддан")  # added
    assert one_typo_apart("ожидан", "ожидон")  # changed
    assert one_typo_apart("ожидан", "ождиан")  # swapped
    assert not one_typo_apart("ожидан", "жидно")
    assert not one_typo_apart("ожидан", "одижан")


def test_terms_are_distinct_stems_of_words_of_three_letters_and_more() -> None:
    assert terms("Ждал, ждал и ЖДАЛ на линии") == ["ждал", "лин"]
    assert terms("ИНН 500100732259, тел. +7 912 345-67-89, код 4a5") == ["ин", "тел", "код"]


@settings(max_examples=100)
@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁ не*=!,.0123", max_size=60))
def test_any_text_gets_a_label_in_order_with_other_only_alone(text: str) -> None:
    label = ThemeClassifier(RULES).classify(text)
    assert label
    assert list(label) == sorted(label, key=list(Theme).index)
    assert Theme.OTHER not in label or label == (Theme.OTHER,)
    assert not {Theme.NEW_SERVICE, Theme.SUGGESTION} <= set(label)
