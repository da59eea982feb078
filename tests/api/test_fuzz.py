"""Stateful fuzzing of every service's published API (tests/fuzzing.py), short: no server error, responses
as declared (status and schema), schema-valid requests accepted and invalid ones refused, for an owner and an
agent. ``make fuzz`` runs the long version."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fuzzing import fuzz_all
from tests.helpers.live import LiveServer

EXAMPLES = int(os.environ.get("FUZZ_TEST_EXAMPLES", "3"))
SEED = int(os.environ.get("FUZZ_TEST_SEED", "21"))
# Some runs only, while working on one service: FUZZ_TARGETS="privacy,connectors".
ONLY = {t.strip() for t in os.environ.get("FUZZ_TARGETS", "").split(",") if t.strip()}


@pytest.mark.timeout(1800)
async def test_fuzzing_every_service_finds_nothing(server: LiveServer) -> None:
    documents = {name: server.apps[name].openapi() for name in ("privacy", "connectors")}  # type: ignore[attr-defined]
    outcomes = await fuzz_all(server.url, documents, examples=EXAMPLES, seed=SEED, only=ONLY or None)
    expected = ONLY or {"gateway as owner", "gateway as agent", "privacy", "connectors", "self-locking"}
    assert {o.target for o in outcomes} == expected
    for outcome in outcomes:
        assert outcome.operations > 0, f"{outcome.target}: nothing tested\n{outcome.output[-3000:]}"
    problems = [f"{o.target}: {failure}" for o in outcomes for failure in o.failures]
    details = "\n\n".join(o.output[-6000:] for o in outcomes if o.failures)
    assert not problems, "\n".join(problems) + "\n\n" + details
