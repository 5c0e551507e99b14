"""Fuzzing: schemathesis generates requests from the served OpenAPI description and sends
them to a real Jupyter Server with the extension (token auth). No request may get a 5xx,
and every response must match the description (status codes and bodies)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from studio import Project

pytestmark = pytest.mark.slow
EXAMPLES = 30
"""Per operation, per generation mode and per project choice: bounded, so the run stays short
(no wall-clock assertion: a shared machine may be slow without anything being wrong)."""


def fuzz(schema_url: str, api_url: str, headers: dict[str, str]) -> tuple[list[str], Counter[int]]:
    schema = schemathesis.openapi.from_url(schema_url, headers=headers, timeout=30)
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]

    for result in schema.get_all_operations():
        if isinstance(result, Err):
            problems.append(f"the description does not load: {result.err()}")
            continue
        operation = result.ok()
        fixed: list[dict[str, Any] | None] = [None]
        if "{project_id}" in operation.path:
            fixed.append({"project_id": "Night_Market"})  # reach past the 404s too
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            for path_parameters in fixed:
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters, headers=headers
                )

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def run(case: Any) -> None:
                    response = case.call(base_url=api_url, headers=headers, timeout=30)
                    statuses[response.status_code] += 1
                    label = f"{case.method} {case.formatted_path} -> {response.status_code}"
                    if response.status_code >= 500:
                        problems.append(f"{label}: {response.text[:300]}")
                        return
                    try:
                        case.validate_response(response, checks=checks, headers=headers)
                    except (AssertionError, FailureGroup) as exc:  # report them all at the end
                        problems.append(f"{label}: {str(exc)[:400]}")

                try:
                    run()
                except Unsatisfiable:  # negative mode with nothing left to break (GET status)
                    continue
    return problems, statuses


async def test_no_5xx_and_responses_match_the_description(
    jp_serverapp, http_server_client, jp_base_url, studio_server, film: Project
):
    token = jp_serverapp.identity_provider.token
    headers = {"Authorization": f"token {token}"}
    base = http_server_client.get_url(f"{jp_base_url}studio/api/v1")  # the listening server
    # schemathesis is synchronous: run it on a thread so this loop keeps serving it.
    problems, statuses = await asyncio.get_running_loop().run_in_executor(
        None, fuzz, f"{base}/openapi.json", base, headers
    )
    assert not problems, "\n".join(problems[:20])
    print(dict(statuses))
    assert statuses.total() > 150  # it really ran
    assert statuses[200] and statuses[201] and statuses[404] and statuses[422]
