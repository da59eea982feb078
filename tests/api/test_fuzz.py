"""Stateful fuzzing of every service's published API (tests/helpers/fuzzing.py), short: no server error,
responses as declared (status and schema), schema-valid requests accepted and invalid ones refused, for an
owner and an agent, following the schema's links. ``make fuzz`` runs the long version (200 examples per
operation and the coverage phase)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from tests.helpers.fuzzing import SHORT, fuzz_all
from tests.helpers.live import LiveServer

BUDGET = dataclasses.replace(
    SHORT,
    examples=int(os.environ.get("FUZZ_TEST_EXAMPLES", SHORT.examples)),
    scenarios=int(os.environ.get("FUZZ_TEST_SCENARIOS", SHORT.scenarios)),
)
SEED = int(os.environ.get("FUZZ_TEST_SEED", "21"))
# Some runs only, while working on one service: FUZZ_TARGETS="privacy,connectors".
ONLY = {t.strip() for t in os.environ.get("FUZZ_TARGETS", "").split(",") if t.strip()}


@pytest.mark.timeout(900)
async def test_fuzzing_every_service_finds_nothing(server: LiveServer) -> None:
    documents = {name: server.apps[name].openapi() for name in ("privacy", "connectors")}  # type: ignore[attr-defined]
    outcomes = await fuzz_all(server.url, documents, budget=BUDGET, seed=SEED, only=ONLY or None)
    expected = ONLY or {"gateway as owner", "gateway as agent", "privacy", "connectors", "self-locking"}
    assert {o.target for o in outcomes} == expected
    for outcome in outcomes:
        assert outcome.operations > 0, f"{outcome.target}: nothing tested\n{outcome.output[-3000:]}"
        if outcome.target.startswith("gateway"):  # the links were followed (a phase without links is skipped)
            status = outcome.phase_status("stateful")
            assert status in ("success", "failure"), f"{outcome.target}: stateful {status}\n{outcome.output[-3000:]}"
    problems = [f"{o.target}: {failure}" for o in outcomes for failure in o.failures]
    details = "\n\n".join(f"{o.target}:\n{o.failure_details}" for o in outcomes if o.failures)
    timings = ", ".join(f"{o.target} {o.seconds:.0f} s ({o.cases} cases)" for o in outcomes)
    print(f"fuzzing: {timings}")  # shown with -s, and in the report of a failure
    assert not problems, "\n".join(problems) + "\n\n" + details
