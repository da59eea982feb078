"""Stateful fuzzing of every service's published API with Schemathesis, as an outside QA team would run it.

The whole schema of each service (the gateway's ``/openapi.json``, and the privacy and connectors documents),
every phase (coverage, fuzzing, stateful following the OpenAPI links) and every check: no 5xx, responses
matching their declared schema and status codes, schema-valid requests accepted and invalid ones refused.
It runs as a logged-in owner and as an agent, against an account that has the data a real one has
(conversations from the widget and the API channel, a team); widget operations carry a visitor's token and
API-channel messages are signed with the inbox secret (``tests.helpers.fuzz_hooks``), so they reach their logic.

Two budgets (:class:`Budget`): ``tests/api/test_fuzz.py`` runs ``SHORT`` in ``make test`` (a few examples per
operation and a few dozen link-following scenarios, no coverage phase: a couple of minutes), ``make fuzz``
(``python -m tests.helpers.fuzzing``) runs ``LONG`` (200 examples per operation, every phase including the
coverage phase, which generates every boundary case the schema defines however many that is) and writes
docs/fuzz-results.md. The checks are the same in both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from switchboard_common.infra import signing

from tests.helpers.api import Tenant, create_agent, create_web_inbox, signup, visitor_session

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "fuzz-results.md"
# Operations that end or lock the fuzzer's own session (revoking a session: the ids come from the session list,
# and one of them is the fuzzer's own): left out of the other runs, run last, alone, with the list.
SELF_LOCKING = r"^/api/v1/(auth/logout(-all)?|auth/sessions/\{session_id\}|account/(ip-allowlist|security-policy))$"
SELF_LOCKING_RUN = (
    r"^/api/v1/(auth/logout(-all)?|auth/sessions(/\{session_id\})?|account/(ip-allowlist|security-policy))$"
)
# Health probes, whose answer is the system's state rather than the request's outcome.
PROBES = "^/(healthz|readyz)$"
READY_TIMEOUT_SECONDS = 90.0


@dataclass(frozen=True)
class Budget:
    """How much one run generates. ``examples``: per operation, in the fuzzing phase; ``scenarios``: stateful
    scenarios (each up to ``steps`` calls following links); ``coverage``: the coverage phase, which is not
    bounded by ``examples`` (every boundary and negative case of every parameter)."""

    examples: int
    scenarios: int
    steps: int
    coverage: bool

    @property
    def phases(self) -> str:
        return ",".join(["examples", *(["coverage"] if self.coverage else []), "fuzzing", "stateful"])

    def describe(self) -> str:
        coverage = "with" if self.coverage else "without"
        return (
            f"{self.examples} examples per operation, {self.scenarios} stateful scenarios of up to {self.steps} "
            f"steps, {coverage} the coverage phase"
        )


SHORT = Budget(examples=2, scenarios=20, steps=8, coverage=False)
LONG = Budget(examples=200, scenarios=200, steps=10, coverage=True)


@dataclass
class World:
    """An account with data: the owner, an agent, a visitor with conversations, an API inbox and a team."""

    owner: Tenant
    agent_token: str
    visitor_token: str
    api_inbox_id: str
    api_secret: str


@dataclass
class Outcome:
    target: str
    seconds: float
    report: dict[str, Any]
    output: str
    failures: list[str] = field(default_factory=list)

    @property
    def operations(self) -> int:
        return int(self.report.get("operations", {}).get("tested", 0))

    @property
    def cases(self) -> int:
        return int(self.report.get("test_cases", {}).get("generated", 0))

    def phase_status(self, phase: str) -> str | None:
        """ "success", "failure", "skip", ... of one phase (e.g. "stateful"); None if it was not reported."""
        return ((self.report.get("phases") or {}).get(phase) or {}).get("status")

    @property
    def failure_details(self) -> str:
        """The FAILURES section of the output (each failure with its request and answer), else its end."""
        start = self.output.find("= FAILURES =")
        if start < 0:
            return self.output[-6000:]
        ends = [i for i in (self.output.find(m, start) for m in ("= WARNINGS =", "= SUMMARY =")) if i > 0]
        return self.output[start : min(ends, default=len(self.output))][:20000]

    @property
    def warnings(self) -> dict[str, list[str]]:
        return {k: v for k, v in (self.report.get("warnings") or {}).items() if v}


async def seed_account(http: httpx.AsyncClient) -> World:
    owner = await signup(http, "Fuzzed")
    _agent_id, agent_token = await create_agent(http, owner)
    inbox = await create_web_inbox(http, owner)
    visitor = await visitor_session(http, inbox["widget_token"])
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    sent = await http.post("/api/v1/widget/messages", json={"text": "hello, I need help"}, headers=headers)
    assert sent.status_code == 202, sent.text
    api = await http.post("/api/v1/inboxes", json={"name": "Back end", "channel": "api"}, headers=owner.headers)
    assert api.status_code == 201, api.text
    for number in range(2):
        body = json.dumps(
            {"contact": {"external_id": f"customer-{number}"}, "message": {"id": f"m-{number}", "text": "hi"}}
        ).encode()
        signed = signing.signed_headers(api.json()["secret"], body)
        posted = await http.post(f"/webhooks/api/{api.json()['id']}", content=body, headers=signed)
        assert posted.status_code == 202, posted.text
    team = await http.post("/api/v1/teams", json={"name": "Support"}, headers=owner.headers)
    assert team.status_code == 201, team.text
    return World(owner, agent_token, visitor["visitor_token"], api.json()["id"], api.json()["secret"])


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def config(world: World, token: str, *, target: str, budget: Budget, seed: int, report: Path) -> str:
    """A schemathesis.toml for one run: every check, the given token, the visitor's token on widget calls."""
    lines = [
        'hooks = "tests.helpers.fuzz_hooks"',
        "workers = 1",
        "request-timeout = 30",
        f"seed = {seed}",
        f"headers = {{ Authorization = {_toml_string('Bearer ' + token)} }}",
        "[generation]",
        f"max-examples = {budget.examples}",
        "[checks]",
        "enabled = true",
        "[phases.coverage]",
        f"enabled = {str(budget.coverage).lower()}",
        "[phases.stateful]",
        f"max-steps = {budget.steps}",
        "[phases.stateful.generation]",
        f"max-examples = {budget.scenarios}",
        "[reports.json]",
        "enabled = true",
        f"path = {_toml_string(str(report))}",
    ]
    if target == "connectors":
        lines += ["[parameters]", f'"path.inbox_id" = {_toml_string(world.api_inbox_id)}']
    if target.startswith("gateway"):
        lines += [
            "[[operations]]",
            'include-path-regex = "^/api/v1/widget/messages$"',
            f"headers = {{ Authorization = {_toml_string('Bearer ' + world.visitor_token)} }}",
            "[[operations]]",
            f"include-path-regex = {_toml_string(SELF_LOCKING)}",
            "enabled = false",
        ]
    # A report's range rules (from before to, at most 400 days, a real calendar date) span two parameters or the
    # calendar, beyond what a schema pattern states: a 422 there is the documented answer to a schema-valid range.
    lines += [
        "[[operations]]",
        'include-path-regex = "^/api/v1/reports/summary$"',
        "[operations.checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]',
    ]
    # Not ready is a declared 503 (a probe reports the system, not the request): allowed there, and only there;
    # the status and schema checks still apply. fuzz_all checks readiness itself before and after.
    lines += [
        "[[operations]]",
        f"include-path-regex = {_toml_string(PROBES)}",
        "[operations.checks.not_a_server_error]",
        'expected-statuses = ["2xx", "3xx", "4xx", "503"]',
    ]
    return "\n".join(lines) + "\n"


async def run(
    target: str, location: str, base_url: str, world: World, token: str, *, budget: Budget, seed: int
) -> Outcome:
    """One Schemathesis run in its own process (it calls synchronously; the servers keep this event loop)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as workdir:
        report = Path(workdir) / "report.json"
        config_path = Path(workdir) / "schemathesis.toml"
        config_path.write_text(config(world, token, target=target, budget=budget, seed=seed, report=report))
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config_path), "run", location]
        command += ["--url", base_url, "--no-color"] if not location.startswith("http") else ["--no-color"]
        if target == "self-locking":
            # No stateful phase: nothing links to these operations (they take no ids).
            phases = budget.phases.removesuffix(",stateful")
            command += ["--include-path-regex", SELF_LOCKING_RUN, "--phases", phases]
        env = {**os.environ, "SWITCHBOARD_FUZZ_API_SECRET": world.api_secret, "PYTHONPATH": str(ROOT)}
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command, cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            output, _ = await process.communicate()
        finally:
            if process.returncode is None:  # cancelled (a timeout): the run must not outlive its servers
                process.kill()
                await process.wait()
        seconds = time.monotonic() - started
        text = output.decode(errors="replace")
        data = json.loads(report.read_text()) if report.exists() else {}
    outcome = Outcome(target, seconds, data, text)
    for failure in data.get("failures", []):
        outcome.failures.append(f"{failure['code']} {failure['title']}: {', '.join(failure['operations'])}")
    for error in data.get("errors", []):
        outcome.failures.append(f"error: {error}")
    if not data or process.returncode not in (0, 1):
        outcome.failures.append(f"schemathesis exited {process.returncode}:\n{text[-3000:]}")
    return outcome


async def wait_until_ready(http: httpx.AsyncClient, timeout: float = READY_TIMEOUT_SECONDS) -> str | None:
    """None once every service's /readyz answers 200, else what the last answer said."""
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get("/readyz")
        if response.status_code == 200:
            return None
        if time.monotonic() > deadline:
            return f"GET /readyz -> {response.status_code} for {timeout:.0f} s: {response.text[:500]}"
        await asyncio.sleep(0.5)


async def fuzz_all(
    base_url: str, documents: dict[str, dict[str, Any]], *, budget: Budget, seed: int, only: set[str] | None = None
) -> list[Outcome]:
    """Seeds an account, then fuzzes: the gateway as owner and as agent, privacy and connectors (their own
    documents), and last the operations that would end or lock the session. ``only``: some of those runs."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        not_ready = await wait_until_ready(http)
        assert not_ready is None, f"not ready before fuzzing: {not_ready}"
        world = await seed_account(http)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="fuzz-docs-") as docs:
        paths = {}
        for name, document in documents.items():
            paths[name] = Path(docs) / f"{name}.json"
            paths[name].write_text(json.dumps(document))
        gateway = f"{base_url}/openapi.json"
        owner, agent = world.owner.token, world.agent_token
        runs = [
            ("gateway as agent", gateway, agent),
            ("gateway as owner", gateway, owner),
            ("privacy", str(paths["privacy"]), owner),
            ("connectors", str(paths["connectors"]), owner),
            ("self-locking", gateway, owner),  # last: it ends the owner's session
        ]
        for target, location, token in runs:
            if only and target not in only:
                continue
            outcomes.append(await run(target, location, base_url, world, token, budget=budget, seed=seed))
    # Whatever the fuzzer sent, the system is ready again (a consumer that dead-lettered or died would not be).
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        not_ready = await wait_until_ready(http)
    if not_ready is not None and outcomes:
        outcomes[-1].failures.append(f"not ready after fuzzing: {not_ready}")
    return outcomes


def results_table(outcomes: list[Outcome], *, budget: Budget, seed: int) -> str:
    lines = [
        "# API fuzzing results",
        "",
        f"`make fuzz`: Schemathesis, every check, {budget.describe()}, seed {seed}, against every service in "
        f"one process (`tests/helpers/fuzzing.py`); {sum(o.seconds for o in outcomes):.0f} s in all.",
        "",
        "| run | operations | test cases | failures | seconds | warnings |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        warnings = "; ".join(f"{k}: {len(v)}" for k, v in o.warnings.items()) or "none"
        lines.append(f"| {o.target} | {o.operations} | {o.cases} | {len(o.failures)} | {o.seconds:.0f} | {warnings} |")
    failures = [f"- {o.target}: {f}" for o in outcomes for f in o.failures]
    lines += ["", "Failures:" if failures else "No failures.", *failures, ""]
    return "\n".join(lines)


async def _main(budget: Budget, seed: int) -> int:
    from switchboard_devstack import LocalStack

    from tests.helpers.live import live_server

    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-fuzz-"))
    local = LocalStack(data_dir, durable=False, database="switchboard_fuzz")
    local.start()
    try:
        from switchboard_common.migrations import upgrade

        upgrade(local.urls().database_url)
        # A long run outlives the default 15-minute access tokens the fuzzer logs in with.
        async with live_server(local.urls(), ACCESS_TOKEN_TTL_SECONDS=str(24 * 3600)) as server:
            documents = {name: server.apps[name].openapi() for name in ("privacy", "connectors")}  # type: ignore[attr-defined]
            only = {t.strip() for t in os.environ.get("FUZZ_TARGETS", "").split(",") if t.strip()} or None
            outcomes = await fuzz_all(server.url, documents, budget=budget, seed=seed, only=only)
    finally:
        local.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    table = results_table(outcomes, budget=budget, seed=seed)
    RESULTS.write_text(table)
    print(table)
    return 1 if any(o.failures for o in outcomes) else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.fuzzing", description=__doc__)
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", LONG.examples)))
    parser.add_argument("--scenarios", type=int, default=int(os.environ.get("FUZZ_SCENARIOS", LONG.scenarios)))
    parser.add_argument("--steps", type=int, default=LONG.steps)
    parser.add_argument("--no-coverage", action="store_true", help="skip the (unbounded) coverage phase")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    args = parser.parse_args()
    budget = Budget(args.examples, args.scenarios, args.steps, coverage=not args.no_coverage)
    return asyncio.run(_main(budget, args.seed))


if __name__ == "__main__":
    sys.exit(main())
