"""`hotline.api.bodies`: a JSON body all here is read at once; one still arriving is awaited."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from hotline.api.bodies import JsonBodyRequest

BODY = b'{"channel": "chat", "topic": "documents"}'


def json_request(max_content_length: int | None = None) -> JsonBodyRequest:
    headers = Headers({"Content-Type": "application/json"})

    async def no_push(path: str, headers: Headers) -> None:
        raise AssertionError("no push promises here")

    return JsonBodyRequest(
        "POST",
        "http",
        "/v1/contacts",
        b"",
        headers,
        "",
        "1.1",
        max_content_length=max_content_length,
        body_timeout=None,
        send_push_promise=no_push,
        scope={},  # type: ignore[typeddict-item]
    )


async def test_a_body_all_here_is_read_without_a_checkpoint() -> None:
    request = json_request()
    request.body.append(BODY)
    request.body.set_complete()
    with trio.testing.assert_no_checkpoints():
        assert await request.get_json() == {"channel": "chat", "topic": "documents"}


async def test_a_body_still_arriving_is_awaited_until_it_is_whole() -> None:
    request = json_request()
    request.body.append(BODY[:10])

    async def rest() -> None:
        await trio.sleep(0.01)
        request.body.append(BODY[10:])
        request.body.set_complete()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(rest)
        with trio.fail_after(5):
            assert await request.get_json() == {"channel": "chat", "topic": "documents"}


async def test_a_body_too_large_is_refused_not_read_in_part() -> None:
    request = json_request(max_content_length=8)
    request.body.append(BODY)  # over the limit: the body is complete, and must raise
    with pytest.raises(RequestEntityTooLarge):
        await request.get_json()


async def test_an_uncached_read_leaves_the_body_empty() -> None:
    request = json_request()
    request.body.append(BODY)
    request.body.set_complete()
    assert await request.get_json(cache=False) == {"channel": "chat", "topic": "documents"}
    assert await request.get_data() == b""
