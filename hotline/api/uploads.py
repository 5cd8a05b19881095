"""Larger request bodies for the few routes that take files, and the small limit for the rest.

`http.max_body_kib` bounds every body, so a flood of large requests cannot fill memory. A route
that takes uploads (voicemail recordings, feedback form attachments) registers its own limit here
with `allow_upload(app, path, limit)`; the request class reads it before a byte of the body is
buffered, so over the limit is a 413 as early as for any other route.
"""

from __future__ import annotations

from typing import Any, ClassVar

from quart_trio import QuartTrio

from hotline.api.bodies import JsonBodyRequest


class UploadAwareRequest(JsonBodyRequest):
    upload_limits: ClassVar[dict[str, int]] = {}

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        limit = self.upload_limits.get(path) if method == "POST" else None
        if limit is not None:
            kwargs["max_content_length"] = limit  # the body buffer's limit
        super().__init__(method, scheme, path, *args, **kwargs)
        if limit is not None:
            self.max_content_length = limit  # the multipart parser's limit


def allow_upload(app: QuartTrio, path: str, limit: int) -> None:
    """Let `POST path` carry a body of up to `limit` bytes."""
    if not issubclass(app.request_class, UploadAwareRequest):
        # A class per app, so that two apps (tests) never share their limits.
        class HotlineRequest(UploadAwareRequest):
            upload_limits: ClassVar[dict[str, int]] = {}

        app.request_class = HotlineRequest
    request_class: Any = app.request_class
    request_class.upload_limits[path] = limit
