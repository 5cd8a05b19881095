"""`[voicemail]` of the configuration: where recordings go, how large they may be, the callback
deadline, retries and retention. Read by `hotline.config` (the `voicemail` key of `Settings`);
the service and the watcher take the plain `CallbackPolicy` from `callback_policy()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from hotline.voicemail.policy import CallbackPolicy

_MINUTE_S = 60.0
_DAY_S = 86_400.0
_KIB = 1024


class VoicemailSettings(BaseModel):
    # As in `hotline.config`: strict, unknown keys refused, immutable once read.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # Recordings are files named by voicemail id; relative paths are taken from the working dir.
    dir: Annotated[Path, Field(strict=False)] = Path("var/voicemail")
    max_audio_kib: int = Field(default=10_240, gt=0)
    max_transcript_chars: int = Field(default=10_000, ge=0)
    callback_within_min: float = Field(default=60, gt=0)
    overflow_after_min: float = Field(default=30, gt=0)
    retry_delay_min: float = Field(default=30, ge=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    retention_days: float = Field(default=90, gt=0)
    sweep_interval_s: float = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _overflow_before_deadline(self) -> Self:
        if self.overflow_after_min > self.callback_within_min:
            raise PydanticCustomError(
                "voicemail", "overflow_after_min must be <= callback_within_min"
            )
        return self

    @property
    def max_audio_bytes(self) -> int:
        return self.max_audio_kib * _KIB

    @property
    def retention_s(self) -> float:
        return self.retention_days * _DAY_S

    def callback_policy(self) -> CallbackPolicy:
        return CallbackPolicy(
            callback_within_s=self.callback_within_min * _MINUTE_S,
            overflow_after_s=self.overflow_after_min * _MINUTE_S,
            retry_delay_s=self.retry_delay_min * _MINUTE_S,
            max_attempts=self.max_attempts,
        )
