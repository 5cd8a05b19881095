"""The trends' counting: themes per comment, terms once per comment, the rise against the period
before, function words and rare terms left out, groups compared with themselves."""

from __future__ import annotations

from hotline.quality.themes import Theme, terms
from hotline.quality.trends import Comment, by_group, trend

W, T, OTHER = Theme.WAIT_TIME, Theme.THANKS, Theme.OTHER


def comment(text: str, *themes: Theme, group: str | None = None) -> Comment:
    return Comment(group, themes or (OTHER,), terms(text))


def test_a_comment_counts_once_in_each_of_its_themes() -> None:
    result = trend(
        [comment("ждал", W, T), comment("спасибо", T), comment("что")], [], limit=5, min_count=1
    )
    assert result.total == 3
    assert (result.categories[W], result.categories[T], result.categories[OTHER]) == (1, 2, 1)
    assert result.categories[Theme.SUGGESTION] == 0


def test_terms_that_rose_most_come_first_and_others_are_left_out() -> None:
    now = [comment("смс не приходит")] * 4 + [comment("долгое ожидание")] * 2
    before = [comment("долгое ожидание")] * 3 + [comment("смс пришло")]
    rising = trend(now, before, limit=10, min_count=2).rising
    assert [(r.term, r.count, r.previous, r.rise) for r in rising] == [
        ("приход", 4, 0, 4),
        ("смс", 4, 1, 3),
    ]


def test_a_term_is_counted_once_per_comment_and_function_words_never() -> None:
    rising = trend([comment("смс смс СМС, что что")], [], limit=10, min_count=1).rising
    assert [(r.term, r.count) for r in rising] == [("смс", 1)]


def test_the_list_is_cut_at_the_limit_with_ties_in_alphabetical_order() -> None:
    rising = trend([comment("вокзал банк")], [], limit=1, min_count=1).rising
    assert [r.term for r in rising] == ["банк"]


def test_groups_are_compared_with_the_same_group_before() -> None:
    now = [comment("очередь", W, group="payments"), comment("очередь", W, group="registration")]
    before = [comment("очередь", W, group="payments")]
    groups = by_group(now, before, limit=5, min_count=1)
    assert groups["payments"].rising == []
    assert [r.term for r in groups["registration"].rising] == ["очеред"]
