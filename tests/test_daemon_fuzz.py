"""Fuzz the live daemon from its OpenAPI document (schemathesis): no 5xx, and every answer
conforms to the document (status code, content type, body schema). Bounded examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from rlaif_tui.daemon.server import OPENAPI
from tests.daemon_helpers import LiveDaemon, start_daemon

pytestmark = [pytest.mark.slow]

EXAMPLES = 12
"""Per operation and generation mode: enough to hit every error path, cheap on a loaded CPU."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    live = start_daemon(tmp_path_factory.mktemp("fuzz") / "run")
    try:
        yield live
    finally:
        live.stop()


def test_the_served_document_is_the_one_in_the_repo(daemon: LiveDaemon) -> None:
    import requests
    import yaml

    served = requests.get(f"{daemon.url}/api/openapi.json", headers=daemon.headers, timeout=30)
    repo = yaml.safe_load(OPENAPI.read_text())
    assert served.json()["paths"] == repo["paths"]
    assert served.json()["components"] == repo["components"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_get_documented_answers(daemon: LiveDaemon, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/events":
            continue  # a websocket; tests/test_daemon_live.py drives it

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                base_url=daemon.url, headers=daemon.headers, checks=CHECKS, timeout=60
            )

        try:
            call()
        except Unsatisfiable:  # nothing to make invalid (e.g. GET /api/health in negative mode)
            assert mode is GenerationMode.NEGATIVE
    assert calls >= EXAMPLES  # something was sent
    assert daemon.process.poll() is None, daemon.log()
