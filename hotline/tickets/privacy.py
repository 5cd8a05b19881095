"""What of a ticket's free text a reader may see when it is not theirs to see in full.

A description is the citizen's own words: it often holds a passport or account number, an INN, a
phone, an e-mail, sometimes a name. Listings, and a single ticket read by an operator who is not
working on it, show `brief(text)`: numbers and addresses hidden, cut to a line. Names cannot be
told from other words, so the cut is what keeps most of them out. Pure, never raises.
"""

from __future__ import annotations

import re

BRIEF_CHARS = 60  # about a line: enough to tell what the ticket is about

# Three digits or more, with the spaces, dashes, dots, slashes and brackets numbers are written
# with: an INN, SNILS, phone, passport or account number, a date with its year.
_NUMBER = re.compile(r"\d(?:[\d\s\-./()]*\d){2,}")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_SPACES = re.compile(r"\s+")


def brief(text: str) -> str:
    """`text` on one line, its numbers and e-mail addresses as `***`, at most `BRIEF_CHARS`
    characters (an ellipsis marks the cut)."""
    hidden = _NUMBER.sub("***", _EMAIL.sub("***", text))
    line = _SPACES.sub(" ", hidden).strip()
    if len(line) <= BRIEF_CHARS:
        return line
    return line[: BRIEF_CHARS - 1].rstrip() + "…"
