"""Answer templates: an article of kind `template` whose body names placeholders
(`{ticket_number}`, `{full_name}`, `{opens_at}`, ...) filled for one contact or ticket.

Rendering is pure: the service gathers the values it can for the contact or ticket named, and
`render` refuses, naming the placeholder, when the template needs one it does not have (an
operator must not send a citizen «{full_name}»). Braces that name no placeholder cannot be
saved in a template (`articles.check_draft`), so every `{...}` here is a known one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hotline.domain.errors import Invalid

__all__ = ["render"]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def render(body: str, values: Mapping[str, str | None]) -> str:
    missing = [name for name in _PLACEHOLDER.findall(body) if values.get(name) is None]
    if missing:
        raise Invalid(
            f"the template needs {{{missing[0]}}}, which the contact or ticket named does not"
            " give: name a ticket (ticket_number) or a contact that has it",
            field=missing[0],
            extra={"missing": sorted(set(missing))},
        )
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), body)
