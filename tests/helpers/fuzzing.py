"""Stateful fuzzing of every service's published API with Schemathesis, as an outside QA team would run it.

The whole schema of each service (the gateway's ``/openapi.json``, and the privacy and connectors documents),
every phase (coverage, fuzzing, stateful following the OpenAPI links) and every check: no 5xx, responses
matching their declared schema and status codes, schema-valid requests accepted and invalid ones refused.
It runs as a logged-in owner and as an agent, against an account that has the data a real one has
(conversations from the widget and the API channel, a team); widget operations carry a visitor's token and
API-channel messages are signed with the inbox secret (``tests.helpers.fuzz_hooks``), so they reach their logic.

``tests/api/test_fuzz.py`` runs a short pass in ``make test``; ``make fuzz`` (``python -m tests.helpers.fuzzing``)
runs a long one (200 examples per operation by default) and writes docs/fuzz-results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
# Operations that end or lock the fuzzer's own session: run last, alone (see SELF_LOCKING_RUN).
SELF_LOCKING = "^/api/v1/(auth/logout(-all)?|account/(ip-allowlist|security-policy))$"
# Health probes, whose answer is the system's state rather than the request's outcome.
PROBES = "^/(healthz|readyz)$"
READY_TIMEOUT_SECONDS = 90.0


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


def config(world: World, token: str, *, target: str, examples: int, seed: int, report: Path, steps: int = 10) -> str:
    """A schemathesis.toml for one run: every check, the given token, the visitor's token on widget calls."""
    lines = [
        'hooks = "tests.helpers.fuzz_hooks"',
        "workers = 1",
        "request-timeout = 30",
        f"seed = {seed}",
        f"headers = {{ Authorization = {_toml_string('Bearer ' + token)} }}",
        "[generation]",
        f"max-examples = {examples}",
        "[checks]",
        "enabled = true",
        "[phases.stateful]",
        f"max-steps = {steps}",
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
    target: str, location: str, base_url: str, world: World, token: str, *, examples: int, seed: int
) -> Outcome:
    """One Schemathesis run in its own process (it calls synchronously; the servers keep this event loop)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as workdir:
        report = Path(workdir) / "report.json"
        config_path = Path(workdir) / "schemathesis.toml"
        config_path.write_text(config(world, token, target=target, examples=examples, seed=seed, report=report))
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config_path), "run", location]
        command += ["--url", base_url, "--no-color"] if not location.startswith("http") else ["--no-color"]
        if target == "self-locking":
            # No stateful phase: nothing links to these operations (they take no ids).
            command += ["--include-path-regex", SELF_LOCKING, "--phases", "examples,coverage,fuzzing"]
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
    base_url: str, documents: dict[str, dict[str, Any]], *, examples: int, seed: int, only: set[str] | None = None
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
            outcomes.append(await run(target, location, base_url, world, token, examples=examples, seed=seed))
    # Whatever the fuzzer sent, the system is ready again (a consumer that dead-lettered or died would not be).
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        not_ready = await wait_until_ready(http)
    if not_ready is not None and outcomes:
        outcomes[-1].failures.append(f"not ready after fuzzing: {not_ready}")
    return outcomes


def results_table(outcomes: list[Outcome], *, examples: int, seed: int) -> str:
    lines = [
        "# API fuzzing results",
        "",
        f"`make fuzz`: Schemathesis, every phase and check, {examples} examples per operation, seed {seed}, "
        "against every service in one process (`tests/helpers/fuzzing.py`).",
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


async def _main(examples: int, seed: int) -> int:
    from switchboard_devstack import LocalStack

    from tests.helpers.live import live_server

    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-fuzz-"))
    local = LocalStack(data_dir, durable=False, database="switchboard_fuzz")
    local.start()
    try:
        from switchboard_common.migrations import upgrade

        upgrade(local.urls().database_url)
        async with live_server(local.urls()) as server:
            documents = {name: server.apps[name].openapi() for name in ("privacy", "connectors")}  # type: ignore[attr-defined]
            only = {t.strip() for t in os.environ.get("FUZZ_TARGETS", "").split(",") if t.strip()} or None
            outcomes = await fuzz_all(server.url, documents, examples=examples, seed=seed, only=only)
    finally:
        local.stop()
    table = results_table(outcomes, examples=examples, seed=seed)
    RESULTS.write_text(table)
    print(table)
    return 1 if any(o.failures for o in outcomes) else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.fuzzing", description=__doc__)
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "200")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    args = parser.parse_args()
    return asyncio.run(_main(args.examples, args.seed))


if __name__ == "__main__":
    sys.exit(main())
