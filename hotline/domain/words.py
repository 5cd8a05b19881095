"""Words of Russian (and English) text as hotline compares them: lower case with ё as е, split
into runs of letters and digits, reduced by the Snowball stemmers (PyStemmer): Russian for a
Cyrillic word, English for a Latin one. The feedback themes (hotline.quality.themes) and the
knowledge base's search (hotline.kb.text) both read text through these, so a comment and a
search see «Ёлка», «елки» and «ёлок» alike."""

# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

__all__ = ["WORD", "normalise", "stem", "words"]

# A word: letters and digits (Cyrillic, Latin), with inner hyphens kept apart («смс-код» is two).
WORD = re.compile(r"[0-9a-zа-я]+")
_CYRILLIC = re.compile(r"[а-я]")


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def normalise(text: str) -> str:
    """Lower case, ё as е: the one spelling everything is compared in."""
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    """The words of `text`, normalised, in order (punctuation splits)."""
    return WORD.findall(normalise(text))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The stem of one normalised word: Russian for Cyrillic, English for the rest."""
    language = "russian" if _CYRILLIC.search(word) else "english"
    stemmed: str = _stemmer(language).stemWord(word)
    return stemmed
