"""One home for the tenant rule (issue 14): an ORM statement in a session scoped to an account gets its account
condition from the session (``switchboard_common.domain.accounts.tenancy``), never from a filter written by hand
next to it. A hand-written ``Model.account_id == ...`` is a second home of the rule, and the first one to go
wrong when a query is copied into a cross-tenant sweep or the scoping changes.

This scan fails on such a filter anywhere in the services' (the router and the reports included) and the shared
domain's sources, except where it is listed below with its reason: cross-tenant work that filters by hand on
purpose (the privacy service's erasure, retention and purge in ``cross_tenant_session``, the lookups that find the
account, the router SLA consumer's batch across accounts) and Core statements the scoping hook cannot see. The
shared helpers take a session scoped to their account (``tenancy.require_tenant``) and write no filter."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [
    ROOT / "services" / "gateway" / "src",
    ROOT / "services" / "connectors" / "src",
    ROOT / "services" / "privacy" / "src",
    ROOT / "services" / "router" / "src",
    ROOT / "libs" / "common" / "src" / "switchboard_common" / "domain",
]
NOT_SCANNED = ("libs/common/src/switchboard_common/domain/accounts/tenancy.py",)  # the one home itself

# (file, function) -> why the statement filters on the account by hand.
CROSS_TENANT: dict[tuple[str, str], str] = {
    # The privacy service works in cross_tenant_session (erasure, access, retention, purge across stores) and
    # selects one account's rows itself.
    # find_contacts and load_subject also serve a scoped request handler; there the filter is redundant, not wrong.
    ("services/privacy/src/switchboard_privacy/stores/subject.py", "find_contacts"): "erasure/access lookup",
    ("services/privacy/src/switchboard_privacy/stores/subject.py", "load_subject"): "erasure/access lookup",
    ("services/privacy/src/switchboard_privacy/stores/redis_store.py", "_agents"): "erasure across stores",
    ("services/privacy/src/switchboard_privacy/stores/redis_store.py", "purge_account"): "lifecycle purge",
    ("services/privacy/src/switchboard_privacy/retention/sweep.py", "sweep"): "retention sweep, all accounts",
    ("services/privacy/src/switchboard_privacy/requests/confirmation.py", "_target_conversation"): (
        "confirmation of a request found across accounts by its challenge"
    ),
    # The lookups that find which account a Slack workspace belongs to (channel claims are not tenant-scoped).
    ("libs/common/src/switchboard_common/domain/inboxes/channel_claims.py", "*"): "finds the account",
    # The router's SLA consumer applies a batch of several accounts' events in one cross-tenant transaction (one
    # lock order for all their clock rows); each account's conversations are read with that account's id.
    ("services/router/src/switchboard_router/sla.py", "_create_rows"): "a batch across accounts",
    # A login, before any scoped session exists: the user is found by e-mail across accounts, and the session
    # and audit rows are written on an autocommit connection by one Core statement that names its account itself.
    ("services/gateway/src/switchboard_gateway/accounts/service.py", "_find_login_statement"): "finds the account",
    ("services/gateway/src/switchboard_gateway/security/sessions.py", "_start_verified_statement"): (
        "a login's one-statement write, Core, before any scoped session"
    ),
    # Core on the session's connection (the scoping hook sees ORM statements only; Core keeps the histograms in
    # PostgreSQL's binary form): the statement names its account itself, as raw SQL does.
    ("services/gateway/src/switchboard_gateway/reports/service.py", "_from_groups"): "Core, not the ORM",
}

_STATEMENT_CALLS = {"where", "filter", "filter_by", "and_", "or_", "having", "on", "join", "outerjoin"}


def _account_compare(node: ast.AST) -> bool:
    """``<Model or alias>.account_id == ...`` (or the mirror)."""
    if not isinstance(node, ast.Compare) or not any(isinstance(op, ast.Eq) for op in node.ops):
        return False
    sides = [node.left, *node.comparators]
    return any(isinstance(s, ast.Attribute) and s.attr == "account_id" for s in sides)


def _model_side(node: ast.Compare) -> bool:
    sides = [node.left, *node.comparators]
    return any(
        isinstance(s, ast.Attribute)
        and s.attr == "account_id"
        and isinstance(s.value, ast.Name)
        and s.value.id[:1].isupper()
        for s in sides
    )


def hand_filters(source: str) -> list[tuple[str, int]]:
    """(enclosing function, line) of each hand-written account filter: a comparison on a mapped class's
    ``account_id`` anywhere, or on any ``x.account_id`` inside a statement's where/join/and_/or_ call."""
    tree = ast.parse(source)
    found: dict[int, str] = {}

    def visit(node: ast.AST, function: str, in_statement: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            in_statement = in_statement or name in _STATEMENT_CALLS
        if _account_compare(node) and (in_statement or _model_side(node)):  # type: ignore[arg-type]
            found.setdefault(node.lineno, function)  # type: ignore[attr-defined]
        for child in ast.iter_child_nodes(node):
            visit(child, function, in_statement)

    visit(tree, "<module>", False)
    return [(function, line) for line, function in sorted(found.items())]


def _allowed(path: str, function: str) -> bool:
    listed = CROSS_TENANT.keys()
    return (path, function) in listed or (path, "*") in listed


def test_no_hand_written_account_filter_outside_the_listed_cross_tenant_work() -> None:
    offenders = []
    for base in SCANNED:
        for file in sorted(base.rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            if "/migrations/" in path or any(path.startswith(p) for p in NOT_SCANNED):
                continue
            for function, line in hand_filters(file.read_text()):
                if not _allowed(path, function):
                    offenders.append(f"{path}:{line} in {function}()")
    assert not offenders, (
        "an account filter written by hand: a scoped session adds it (remove it), or the statement is cross-tenant "
        "work (mark it cross_tenant and list it in CROSS_TENANT with why):\n" + "\n".join(offenders)
    )


def test_every_listed_exception_still_exists() -> None:
    """The lists only shrink: an entry whose filter is gone is removed with it."""
    stale = []
    for path, function in CROSS_TENANT:
        found = hand_filters((ROOT / path).read_text())
        if not any(function in ("*", f) for f, _line in found):
            stale.append(f"{path}:{function}")
    assert not stale, "listed but no longer filtering by hand: " + ", ".join(sorted(stale))


def test_the_scan_finds_a_hand_filter_in_a_statement() -> None:
    source = (
        "async def f(session, agent):\n"
        "    await session.scalar(select(Label).where(Label.id == 1, Label.account_id == agent.account_id))\n"
        "    await session.execute(update(x).where(and_(alias.account_id == agent.account_id)))\n"
        "    if request.account_id == challenge.account_id:\n"  # comparing two rows in Python: not a filter
        "        pass\n"
    )
    assert hand_filters(source) == [("f", 2), ("f", 3)]
