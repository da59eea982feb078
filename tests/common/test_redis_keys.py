"""Every Redis key name comes from the registry (``switchboard_common.infra.cache.KEY_KINDS``), tagged with
whose data it holds, so erasure and the account purge can derive keys instead of scanning the keyspace."""

from __future__ import annotations

import re
import string
import uuid
from pathlib import Path
from typing import Any

import pytest
from switchboard_common.infra.cache import KEY_KINDS, KINDS, KeyKind, Keys

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "libs/common/src/switchboard_common/infra/cache.py"
# A key name assembled from the namespace anywhere else: f"{keys.ns}:...", f"{namespace}:...",
# f"{settings.redis_namespace}:...", or a literal "sb:..." (the default namespace).
BUILT_ELSEWHERE = re.compile(r"""f["'][^"']*\{[^}]*(\bns|namespace)\}:|["']sb:[a-z]""")


def test_no_key_name_is_built_outside_the_registry() -> None:
    offenders = []
    for path in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        if path == REGISTRY:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if BUILT_ELSEWHERE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "Redis key names built outside the registry:\n" + "\n".join(offenders)


def test_the_grep_catches_what_it_should() -> None:
    for line in ('key = f"{self.res.keys.ns}:relay:{c}"', 'f"{settings.redis_namespace}:*"', 'redis.get("sb:x")'):
        assert BUILT_ELSEWHERE.search(line), line
    assert not BUILT_ELSEWHERE.search("key = keys.relay(conversation_id)")


def test_every_kind_is_recognized_and_owned() -> None:
    keys = Keys("t1")
    assert len({k.name for k in KEY_KINDS}) == len(KEY_KINDS)
    for kind in KEY_KINDS:
        fields = {f: uuid.uuid4().hex for f in kind.fields}
        name = keys.build(kind.name, **fields)
        assert keys.kind_of(name) == kind, name
        assert all(value in name for value in fields.values())
    assert keys.kind_of("t1:something:else") is None and keys.kind_of("t2:revocations") is None
    with pytest.raises(ValueError):
        keys.build("relay", conversation="a:b")  # a field cannot smuggle in a separator


def test_erasure_names_are_derived_from_the_subject() -> None:
    keys = Keys("t1")
    contact, conversation, message, inbox = (uuid.uuid4() for _ in range(4))
    names = keys.names_for(
        {"contact", "conversation", "message", "identity"},
        {
            "contact": [contact],
            "conversation": [conversation],
            "message": [message],
            "inbox": [inbox],
            "psid": ["p1"],
            "sender": ["visitor", "agent"],
            "channel": ["web", "messenger"],
        },
    )
    assert keys.contact_stream(contact) in names and keys.delivered(keys.contact_stream(contact)) in names
    assert keys.relay(conversation) in names and keys.typing(conversation, "agent") in names
    assert keys.outbound_sent("messenger", message) in names and keys.messenger_sent(message) in names
    assert keys.messenger_last_inbound(inbox, "p1") in names and keys.messenger_thread_owner(inbox, "p1") in names
    # Shared keys (agents' streams, presence) are never deleted whole for one person.
    assert not any(keys.kind_of(n).shared for n in names)  # type: ignore[union-attr]


def test_key_patterns_are_compiled_once_per_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """kind_of and delivered run for every frame pushed to a socket: no pattern is built per call."""
    keys = Keys("t1")
    built: list[str] = []
    original = KeyKind.regex

    def counting(self: KeyKind, namespace: str) -> re.Pattern[str]:
        built.append(self.name)
        return original(self, namespace)

    monkeypatch.setattr(KeyKind, "regex", counting)
    stream = keys.agent_stream(uuid.uuid4())
    for _ in range(3):
        assert keys.kind_of(stream) == KINDS["agent_stream"]
        assert keys.delivered(stream).startswith("t1:pushed:")
    with pytest.raises(ValueError):
        keys.delivered(keys.presence(uuid.uuid4()))
    assert built == []


def test_key_templates_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a key (a rate-limit counter per request, a stream per frame) does not parse its template."""
    keys = Keys("t1")
    keys.rate("widget-messages", "warm")  # the first build of a kind may parse it
    parsed: list[str] = []
    original = string.Formatter.parse

    def counting(self: string.Formatter, template: str) -> Any:
        parsed.append(template)
        return original(self, template)

    monkeypatch.setattr(string.Formatter, "parse", counting)
    for n in range(3):
        assert keys.rate("widget-messages", f"visitor{n}").endswith(f"visitor{n}")
    assert parsed == []
