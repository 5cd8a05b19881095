"""A property-based fuzz of the whole API from its own OpenAPI document (schemathesis).

A real `python -m hotline serve` on 127.0.0.1, in a temporary folder with its own configuration
(every path in the folder, the voice line open around the clock), with a token per role. Every
operation the document lists is called with generated requests, valid and invalid, and every
check of schemathesis is on: no 5xx, only documented statuses, content types, bodies and headers,
invalid data refused, auth not ignored, undocumented methods 405. Each request carries the token
of a role the route table allows (they take turns), and an operator's own id where the path
names one, so the fuzz reaches the handlers rather than stopping at 403. A new route is fuzzed the
day it is added: nothing here lists the operations.

Bounded: `MAX_EXAMPLES` per operation and phase, a fixed seed and derandomized generation, so a
run is repeatable and adds about a minute to `scripts/test`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
import trio
from schemathesis import Case

from hotline.api.roles import ROUTES, Access, Reach
from hotline.services.auth import Role, create_token
from hotline.store import open_store
from tests.e2e.processes import ROOT, launch

pytestmark = pytest.mark.slow

SHIPPED = ROOT / "config" / "hotline.toml"
REQUEST_TIMEOUT_S = 10.0
MAX_EXAMPLES = 15
SEED = 11
OPERATOR_ID = "op-fuzz"
# Never end while the client listens: schemathesis reads a body to its end. Covered by
# tests/api/test_offer_stream.py and tests/api/test_stats_live.py instead.
STREAMS = ("operators_offer_stream", "stats_live_stream")
SNIFFED = ("forms_feedback", "voicemails_create")  # uploads whose type is told by their bytes
ACCEPTED = ["2xx", "401", "403", "404", "409"]  # schemathesis' own list for valid data, less 5xx


@dataclass(frozen=True)
class Served:
    url: str
    tokens: dict[Role, str]


def _config_in(folder: Path) -> Path:
    """The shipped configuration with every path in `folder` and the voice line always open."""
    text = SHIPPED.read_text(encoding="utf-8")
    text = text.replace('path = "var/hotline.db"', f'path = "{folder / "hotline.db"}"')
    text = text.replace('dir = "var/voicemail"', f'dir = "{folder / "voicemail"}"')
    text = re.sub(r'= \["\d\d:\d\d-\d\d:\d\d"\]', '= ["00:00-24:00"]', text)
    text += f'\n[forms]\nattachments_dir = "{folder / "attachments"}"\n'
    config = folder / "hotline.toml"
    config.write_text(text, encoding="utf-8")
    return config


async def _make_tokens(db: Path) -> dict[Role, str]:
    async with open_store(db) as store:
        tokens = {
            role: (await create_token(store, role))[1]
            for role in (Role.ADMIN, Role.SUPERVISOR, Role.INTEGRATION, Role.EDITOR)
        }
        tokens[Role.OPERATOR] = (await create_token(store, Role.OPERATOR, operator_id=OPERATOR_ID))[
            1
        ]
    return tokens


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fuzz")
    config = _config_in(folder)
    tokens = trio.run(_make_tokens, folder / "hotline.db")
    server = launch.Server.start(folder, config=config)
    try:
        _seed(server.url, tokens)
        _TOKENS.update(tokens)
        yield Served(server.url, tokens)
    finally:
        server.stop()


def _seed(url: str, tokens: dict[Role, str]) -> None:
    """The operator of the operator token exists, so its own routes answer more than 404."""
    answer = requests.put(
        f"{url}/v1/operators/{OPERATOR_ID}",
        json={"name": "Fuzz", "skills": {"payments": 3}, "languages": ["ru"]},
        headers={"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"},
        timeout=REQUEST_TIMEOUT_S,
    )
    answer.raise_for_status()


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Hypothesis' health checks time the generation, which a busy machine slows: the
            # run is bounded by its examples instead.
            "suppress-health-check": ["all"],
            "request-timeout": REQUEST_TIMEOUT_S,
            "generation": {
                "mode": "all",  # valid and invalid requests
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": True,
                # A schema-valid value may still break a domain rule the document cannot state
                # (a phone that is no phone number, an unknown topic, a cursor never given out):
                # 422 naming the field. Anything else refusing valid data still fails the check.
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]},
            },
            "operations": [
                {
                    # Files are judged by their bytes: generated bytes after a PNG signature
                    # are no PNG, and that is a 415 naming the field.
                    "include-operation-id": list(SNIFFED),
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "415", "422"]}
                    },
                }
            ],
        }
    )
    return schemathesis.openapi.from_url(
        f"{served.url}/openapi.json", config=config, timeout=REQUEST_TIMEOUT_S
    )


schema = schemathesis.pytest.from_fixture("api_schema").exclude(operation_id=list(STREAMS))

_BY_OPERATION_ID = {endpoint.replace(".", "_"): access for endpoint, access in ROUTES.items()}
_TOKENS: dict[Role, str] = {}  # filled by `served`


@schema.auth.auth(refresh_interval=None)  # type: ignore[misc]
class RoleTokens:
    """The token of a role the route table allows, chosen from the case's own content so that a
    failing example replays with the same role; an operator acts on its own id half the time.
    Given through schemathesis' auth, so that its auth checks strip or spoil it themselves."""

    def get(self, case: Case, ctx: schemathesis.AuthContext) -> tuple[Role, int] | None:
        access = _access(case)
        if access.public:
            return None
        allowed = sorted({*access.roles, Role.ADMIN})
        pick = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
        return allowed[pick % len(allowed)], pick

    def set(self, case: Case, data: tuple[Role, int], ctx: schemathesis.AuthContext) -> None:
        role, pick = data
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_TOKENS[role]}"}
        path = case.path_parameters or {}
        own = role is Role.OPERATOR and _access(case).reach is Reach.OWN_ID
        if own and "operator_id" in path and pick & 2:
            case.path_parameters = {**path, "operator_id": OPERATOR_ID}


def _access(case: Case) -> Access:
    return _BY_OPERATION_ID[str(case.operation.definition.raw["operationId"])]


@schema.parametrize()
def test_every_operation_answers_as_its_document_says(case: Case, served: Served) -> None:
    case.call_and_validate(base_url=served.url, timeout=REQUEST_TIMEOUT_S)
