"""The app's JSON (`hotline.api.schemas.ApiJson`): its prebuilt encoders write what Flask's
provider writes, byte for byte, in every shape the app asks for."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import pytest
from quart import Quart

from hotline.api.schemas import ApiJson


class Colour(Enum):
    RED = "red"


BODY = {
    "id": "c-1",
    "text": "Добрый день",
    "at": datetime(2026, 12, 2, 7, 30, 0, 123456, tzinfo=UTC),
    "day": date(2026, 12, 31),
    "colour": Colour.RED,
    "n": [1, 2.5, None, True],
    "nested": {"b": 1, "a": 2},
}


@pytest.mark.parametrize("options", [{}, {"separators": (",", ":")}, {"indent": 2}])
def test_the_prebuilt_encoders_write_what_json_dumps_writes(options: dict[str, Any]) -> None:
    provider = ApiJson(Quart(__name__))
    expected = json.dumps(BODY, default=ApiJson.default, ensure_ascii=False, **options)
    assert provider.dumps(BODY, **options) == expected
    assert '"at":"2026-12-02T07:30:00.123Z"' in provider.dumps(BODY, separators=(",", ":"))
