"""Crypto-shredding of personal fields in events.

Kafka records are immutable, so the bus never writes personal data to them in clear: every field marked
``json_schema_extra={"personal": True}`` in :mod:`switchboard_common.domain.events` is encrypted (AES-256-GCM) with
a key of the event's *subject* before it is published, and decrypted before a consumer's handler sees it.
Erasure deletes the subject's key row (:func:`destroy_subject_keys`); from then on those fields read back as
``None`` (or ``"[erased]"`` where the schema requires a value), in every record, on every replica.

Subjects (the key an event's personal fields use):

* ``conversation:{id}`` for events of a conversation (message texts, attachments, assignment notes): what a
  conversation's messages say goes with the conversation, so retention of closed conversations shreds their
  Kafka copies by destroying one key per conversation, while the contact (and their other conversations) stay;
* ``contact:{id}`` when the payload names a ``contact_id`` outside a conversation;
* ``identity-k:{HMAC(pseudonym key, account, channel, external_id)}`` for inbound channel messages not yet tied
  to a contact: a keyed pseudonym (``switchboard_common.infra.pseudonyms``), so the ref, which Kafka records
  carry in clear, cannot be reversed by hashing candidate e-mails or phone numbers. (Before the upgrade refs
  were ``identity:{sha256(...)}``; erasure and retention destroy those too, and the retention sweep deletes
  the old keys once no topic can hold a record naming them: :func:`destroy_legacy_identity_keys`.)
* ``account:{id}`` otherwise.

Contact fields (name, e-mail, phone: marked ``{"profile": True}`` as well) use a key of their own, of the
person rather than the conversation: ``profile:contact:{id}`` (``profile:identity-k:...`` before a contact
exists, :func:`profile_subject_ref`). Rectification destroys it (old copies of the fields become unreadable)
and publishes
``contact.updated`` with the corrected values under a fresh one, while the same subject's message texts stay
readable. Erasure destroys both.

Keys live in PostgreSQL (``subject_keys``), wrapped with the service keyring, and are cached in process
memory for ``subject_key_cache_seconds``: erasure waits that long before it reports Kafka as done, so no
process can still hold a destroyed key when the request completes.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard_common.domain.encryption.columns import SUBJECT_KEYS
from switchboard_common.domain.encryption.models import SubjectKey
from switchboard_common.domain.events import EVENT_CLASSES, Event, parse_event, serialize_event
from switchboard_common.infra.bus import EventBus
from switchboard_common.infra.crypto import DecryptionError, Keyring
from switchboard_common.infra.db import affected_rows
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.settings import CommonSettings

SEALED_PREFIX = "sbx1:"
SEALED_JSON_PREFIX = "sbxj1:"
ERASED = "[erased]"


PROFILE_PREFIX = "profile:"


@dataclass(frozen=True)
class _Leaf:
    """A personal field; ``erased`` is what it reads as once its key is gone; ``profile`` fields (contact
    name, e-mail, phone) are sealed with the subject's profile key, which rectification rotates."""

    erased: Any
    profile: bool = False


PersonalTree = dict[str, "_Leaf | PersonalTree"]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _models_in(arg)
    return found


def personal_tree(model: type[BaseModel]) -> PersonalTree:
    """Which fields of ``model`` (recursively) are personal."""
    tree: PersonalTree = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("personal"):
            erased = None if not field.is_required() and field.default is None else ERASED
            tree[name] = _Leaf(erased, profile=bool(extra.get("profile")))
            continue
        for sub in _models_in(field.annotation):
            subtree = personal_tree(sub)
            if subtree:
                tree[name] = subtree
    return tree


def _payload_model(event_class: type[BaseModel]) -> type[BaseModel]:
    annotation = event_class.model_fields["payload"].annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        raise TypeError(f"{event_class.__name__}.payload is not a model")
    return annotation


# Per event type: the personal fields of its payload.
PAYLOAD_TREES: dict[str, PersonalTree] = {
    type_name: personal_tree(_payload_model(cls)) for type_name, cls in EVENT_CLASSES.items()
}


def personal_fields() -> dict[str, list[str]]:
    """Event type -> dotted paths of its personal payload fields (for docs and tests)."""

    def paths(tree: PersonalTree, prefix: str) -> list[str]:
        out: list[str] = []
        for name, sub in tree.items():
            out += [prefix + name] if isinstance(sub, _Leaf) else paths(sub, f"{prefix}{name}[].")
        return out

    return {name: paths(tree, "payload.") for name, tree in PAYLOAD_TREES.items() if tree}


def _walk(value: Any, tree: PersonalTree, leaf: Callable[[Any, _Leaf], Any]) -> Any:
    if isinstance(value, list):
        return [_walk(item, tree, leaf) for item in value]
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, sub in tree.items():
        if name not in out:
            continue
        out[name] = leaf(out[name], sub) if isinstance(sub, _Leaf) else _walk(out[name], sub, leaf)
    return out


def _leaves(value: Any, tree: PersonalTree) -> list[Any]:
    found: list[Any] = []

    def collect(item: Any, _leaf: _Leaf) -> Any:
        found.append(item)
        return item

    _walk(value, tree, collect)
    return found


def _model_leaves(value: Any, tree: PersonalTree) -> Iterator[Any]:
    """The personal values of a payload model (as :func:`_leaves` finds them in its dumped form)."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from _model_leaves(item, tree)
        return
    if value is None:
        return
    for name, sub in tree.items():
        # A model, or a dict where a payload was built without validation (model_construct).
        field = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if isinstance(sub, _Leaf):
            yield field
        else:
            yield from _model_leaves(field, sub)


IDENTITY_PREFIX = "identity-k:"
LEGACY_IDENTITY_PREFIX = "identity:"


def identity_ref(pseudonyms: Pseudonyms, account_id: uuid.UUID | str, channel: str, external_id: str) -> str:
    """The subject of events about a channel identity not yet tied to a contact: a keyed pseudonym."""
    return IDENTITY_PREFIX + pseudonyms.digest("identity-ref", str(account_id), channel, external_id)


def legacy_identity_ref(account_id: uuid.UUID | str, channel: str, external_id: str) -> str:
    """The unsalted form written before keyed pseudonyms; only ever destroyed (erasure, retention)."""
    digest = hashlib.sha256(f"{account_id}:{channel}:{external_id}".encode()).hexdigest()
    return f"{LEGACY_IDENTITY_PREFIX}{digest}"


def identity_refs(pseudonyms: Pseudonyms, account_id: uuid.UUID | str, channel: str, external_id: str) -> list[str]:
    """Every ref an identity's events may have been sealed under (current and pre-upgrade)."""
    return [
        identity_ref(pseudonyms, account_id, channel, external_id),
        legacy_identity_ref(account_id, channel, external_id),
    ]


def person_refs(
    pseudonyms: Pseudonyms,
    account_id: uuid.UUID | str,
    *,
    contact_ids: Iterable[uuid.UUID | str] = (),
    conversation_ids: Iterable[uuid.UUID | str] = (),
    identities: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """Every key sealing these contacts', conversations' and identities' personal fields, profile keys
    included: what erasure destroys, and what retention destroys for the data it expires (the same rule)."""
    refs = [f"contact:{c}" for c in contact_ids] + [f"conversation:{c}" for c in conversation_ids]
    for channel, external in identities:
        refs += identity_refs(pseudonyms, account_id, channel, external)
    return with_profile_refs(refs)


def profile_ref(ref: str) -> str:
    """The key of a subject's contact fields (rotated by rectification)."""
    return f"{PROFILE_PREFIX}{ref}"


def with_profile_refs(refs: Iterable[str]) -> list[str]:
    """Every key of these subjects: their own and their profile keys (what erasure destroys)."""
    out: list[str] = []
    for ref in refs:
        out += [ref, profile_ref(ref)]
    return out


def _person_ref(event: Event, pseudonyms: Pseudonyms) -> str | None:
    payload = event.payload
    contact_id = getattr(payload, "contact_id", None)
    if contact_id is not None:
        return f"contact:{contact_id}"
    external = getattr(payload, "external_contact_id", None)
    if external is not None:
        return identity_ref(pseudonyms, event.tenant_id, str(getattr(payload, "channel", "")), external)
    return None


def subject_ref(event: Event, pseudonyms: Pseudonyms) -> str:
    """The key of an event's personal fields other than contact fields."""
    if event.conversation_id is not None:
        return f"conversation:{event.conversation_id}"
    return _person_ref(event, pseudonyms) or f"account:{event.tenant_id}"


def profile_subject_ref(event: Event, pseudonyms: Pseudonyms) -> str:
    """The key of an event's contact fields: the person's, whatever conversation the event belongs to."""
    return profile_ref(_person_ref(event, pseudonyms) or subject_ref(event, pseudonyms))


class SubjectKeys:
    """Per-subject data keys: created on first use, cached briefly, destroyed by erasure.

    Also the bus's event codec (:class:`switchboard_common.infra.bus.EventCodec`): ``seal`` on publish, ``open``
    and ``parse`` on consume."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        *,
        pseudonyms: Pseudonyms,
        cache_seconds: float = 30.0,
        max_entries: int = 50_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.keyring = keyring
        self.pseudonyms = pseudonyms
        self.cache_seconds = cache_seconds
        self.max_entries = max_entries
        # ref -> (expires at, key or None when the key is known to be gone)
        self._cache: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()
        self._publish_cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        # ref -> the database lookup in flight for it, shared by every reader that misses meanwhile
        self._reads: dict[str, asyncio.Future[bytes | None]] = {}
        # ref -> the publish-side lookup (or creation) in flight for it, shared likewise
        self._publishes: dict[str, asyncio.Future[bytes]] = {}

    def _cached(self, ref: str) -> tuple[bool, bytes | None]:
        hit = self._cache.get(ref)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def _remember(self, ref: str, key: bytes | None) -> None:
        self._cache[ref] = (time.monotonic() + self.cache_seconds, key)
        self._cache.move_to_end(ref)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    def forget_all(self) -> None:
        """Drop every cached key (an account purge destroyed keys of subjects this process never named)."""
        self._cache.clear()
        self._publish_cache.clear()

    def forget(self, refs: Iterable[str]) -> None:
        for ref in refs:
            self._cache.pop(ref, None)
            self._publish_cache.pop(ref, None)
            self._reads.pop(ref, None)  # a reader arriving now looks the key up afresh
            self._publishes.pop(ref, None)

    def _unwrap(self, ref: str, wrapped: bytes) -> bytes:
        return self.keyring.decrypt(wrapped, SUBJECT_KEYS.aad(ref))

    async def ensure(self, session: AsyncSession, account_id: uuid.UUID, ref: str) -> bytes | None:
        """The subject's key, created in the caller's transaction if missing (race-safe); None while the ref is
        fenced by an erasure (:func:`fence_subject_keys`): no key may be created for it."""
        hit, key = self._cached(ref)
        if hit and key is not None:
            return key
        fresh = os.urandom(32)
        await session.execute(
            insert(SubjectKey)
            .values(ref=ref, account_id=account_id, key_encrypted=self.keyring.encrypt(fresh, SUBJECT_KEYS.aad(ref)))
            .on_conflict_do_nothing(index_elements=["ref"])
        )
        wrapped = await session.scalar(select(SubjectKey.key_encrypted).where(SubjectKey.ref == ref))
        if wrapped is None:
            return None
        key = self._unwrap(ref, wrapped)
        self._remember(ref, key)
        return key

    async def key_for_publish(self, account_id: uuid.UUID, ref: str) -> bytes:
        # Sealing with a key destroyed meanwhile is harmless (the data is unreadable), so publishers may keep
        # keys longer than readers: the hot ack path rarely touches the database.
        hit = self._publish_cache.get(ref)
        if hit is not None and hit[0] >= time.monotonic():
            return hit[1]
        # A new visitor's first messages are published side by side: one lookup (and one key created) serves
        # every publisher that misses meanwhile, instead of a query and a transaction each.
        lookup = self._publishes.get(ref)
        if lookup is None:
            lookup = asyncio.ensure_future(self._publish_key(account_id, ref))
            self._publishes[ref] = lookup
            lookup.add_done_callback(functools.partial(self._publish_done, ref))
        # Shielded: a publisher cancelled meanwhile must not cancel the lookup the others wait on.
        return await asyncio.shield(lookup)

    def _publish_done(self, ref: str, lookup: asyncio.Future[bytes]) -> None:
        if self._publishes.get(ref) is lookup:
            del self._publishes[ref]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: a failure every publisher left behind is not reported as unhandled

    async def _publish_key(self, account_id: uuid.UUID, ref: str) -> bytes:
        async with self.sessionmaker() as session:
            row = (await session.execute(select(SubjectKey.key_encrypted).where(SubjectKey.ref == ref))).one_or_none()
        if row is not None:
            key = None if row.key_encrypted is None else self._unwrap(ref, row.key_encrypted)
        else:
            async with self.sessionmaker() as session, session.begin():
                key = await self.ensure(session, account_id, ref)
        if key is None:
            # Fenced: the subject's erasure is running. Sealed with a key nobody keeps, the record reads as
            # erased everywhere, exactly like the subject's older records. Not cached: a lifted fence (a
            # channel identity writing again after its erasure) gets a real key on the next publish.
            return os.urandom(32)
        self._publish_cache[ref] = (time.monotonic() + max(self.cache_seconds, 600.0), key)
        self._publish_cache.move_to_end(ref)
        while len(self._publish_cache) > self.max_entries:
            self._publish_cache.popitem(last=False)
        return key

    async def key_for_read(self, ref: str) -> bytes | None:
        hit, key = self._cached(ref)
        if hit:
            return key
        # Every consumer group of a process opens the same record, side by side: one lookup serves all the
        # readers that miss on a subject at once, instead of a query each.
        lookup = self._reads.get(ref)
        if lookup is None:
            lookup = asyncio.ensure_future(self._read_key(ref))
            self._reads[ref] = lookup
            lookup.add_done_callback(functools.partial(self._read_done, ref))
        # Shielded: a reader cancelled meanwhile must not cancel the lookup the others wait on.
        return await asyncio.shield(lookup)

    def _read_done(self, ref: str, lookup: asyncio.Future[bytes | None]) -> None:
        if self._reads.get(ref) is lookup:
            del self._reads[ref]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: a failure every reader left behind is not reported as unhandled

    async def _read_key(self, ref: str) -> bytes | None:
        async with self.sessionmaker() as session:
            wrapped = await session.scalar(select(SubjectKey.key_encrypted).where(SubjectKey.ref == ref))
        key = None
        if wrapped is not None:
            try:
                key = self._unwrap(ref, wrapped)
            except DecryptionError:
                key = None
        self._remember(ref, key)
        return key

    def parse(self, raw: bytes) -> Event:
        return parse_event(raw)

    def record_key(self, event: Event) -> bytes:
        """The Kafka record key. Records about a channel identity (inbound, before any contact exists) are
        keyed by its keyed pseudonym: a record key cannot be shredded, so it must not be a plain hash of a
        phone number or e-mail that anyone could recompute."""
        identity = event.identity_partition()
        if identity is None:
            return event.partition_key()
        return self.pseudonyms.digest("kafka-key", identity).encode()

    async def seal(self, event: Event) -> bytes:
        """The event as published: personal fields encrypted with the subject's key."""
        tree = PAYLOAD_TREES.get(event.type)
        if not tree or all(v is None for v in _model_leaves(event.payload, tree)):
            # Nothing personal in it (routing decisions, the busiest events, have at most a note): written in one
            # go, as the outbox stores it, not built as a dict and then encoded (an explanation walked twice).
            return serialize_event(event)
        data = event.model_dump(mode="json")
        refs = {False: subject_ref(event, self.pseudonyms), True: profile_subject_ref(event, self.pseudonyms)}
        needed: set[bool] = set()  # which keys the present values need (no profile key for absent fields)

        def note(value: Any, leaf: _Leaf) -> Any:
            if value is not None:
                needed.add(leaf.profile)
            return value

        _walk(data["payload"], tree, note)
        aeads = {kind: AESGCM(await self.key_for_publish(event.tenant_id, refs[kind])) for kind in sorted(needed)}

        def encrypt(value: Any, leaf: _Leaf) -> Any:
            if value is None:
                return None
            prefix, plain = (
                (SEALED_PREFIX, value.encode())
                if isinstance(value, str)
                else (SEALED_JSON_PREFIX, json.dumps(value).encode())
            )
            ref = refs[leaf.profile]
            nonce = os.urandom(12)
            blob = base64.urlsafe_b64encode(nonce + aeads[leaf.profile].encrypt(nonce, plain, ref.encode())).decode()
            return f"{prefix}{ref}:{blob}"

        data["payload"] = _walk(data["payload"], tree, encrypt)
        return json.dumps(data, separators=(",", ":")).encode()

    async def open(self, raw: bytes) -> bytes:
        """A published record with its personal fields decrypted (erased ones as ``None``/``[erased]``)."""
        if SEALED_PREFIX.encode() not in raw and SEALED_JSON_PREFIX.encode() not in raw:
            return raw
        data = json.loads(raw)
        event_type = data.get("type") if isinstance(data, dict) else None
        tree = PAYLOAD_TREES.get(event_type) if isinstance(event_type, str) else None
        if not tree or not isinstance(data.get("payload"), dict):
            return raw
        refs = {_sealed_ref(v) for v in _leaves(data["payload"], tree)} - {None}
        keys = {ref: await self.key_for_read(ref) for ref in refs if ref is not None}

        def decrypt(value: Any, leaf: _Leaf) -> Any:
            ref = _sealed_ref(value)
            if ref is None:
                return value
            key = keys.get(ref)
            if key is None:
                return leaf.erased
            as_json = value.startswith(SEALED_JSON_PREFIX)
            blob = base64.urlsafe_b64decode(value.rsplit(":", 1)[1])
            try:
                plain = AESGCM(key).decrypt(blob[:12], blob[12:], ref.encode())
            except Exception:
                return leaf.erased
            return json.loads(plain) if as_json else plain.decode()

        data["payload"] = _walk(data["payload"], tree, decrypt)
        return json.dumps(data, separators=(",", ":")).encode()


def event_codec(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, settings: CommonSettings
) -> SubjectKeys:
    """The codec every service's bus uses (``Resources.open(settings, event_codec)``)."""
    return SubjectKeys(
        sessionmaker,
        keyring,
        pseudonyms=Pseudonyms.from_settings(settings),
        cache_seconds=settings.subject_key_cache_seconds,
    )


def subject_keys_of(bus: EventBus) -> SubjectKeys:
    """The bus's subject keys (erasure forgets cached keys; benchmarks create them)."""
    if not isinstance(bus.codec, SubjectKeys):
        raise TypeError("the bus does not seal events with subject keys")
    return bus.codec


def _sealed_ref(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    for prefix in (SEALED_PREFIX, SEALED_JSON_PREFIX):
        if value.startswith(prefix):
            ref, _, _blob = value[len(prefix) :].rpartition(":")
            return ref or None
    return None


async def destroy_subject_keys(session: AsyncSession, refs: Iterable[str]) -> int:
    """Crypto-shred: delete the keys; every record sealed with them becomes unreadable for good."""
    wanted = list(refs)
    if not wanted:
        return 0
    result = await session.execute(delete(SubjectKey).where(SubjectKey.ref.in_(wanted)))
    return affected_rows(result)


async def destroy_legacy_identity_keys(session: AsyncSession, created_before: datetime) -> int:
    """Pre-upgrade identity keys (unsalted refs) of records no topic can still hold: gone, with their refs."""
    result = await session.execute(
        delete(SubjectKey).where(
            SubjectKey.ref.startswith(LEGACY_IDENTITY_PREFIX)
            | SubjectKey.ref.startswith(PROFILE_PREFIX + LEGACY_IDENTITY_PREFIX),
            SubjectKey.created_at < created_before,
        )
    )
    return affected_rows(result)


async def fence_subject_keys(session: AsyncSession, account_id: uuid.UUID, refs: Iterable[str]) -> int:
    """Destroys the keys under ``refs`` and fences them: each ref keeps a row with no key, so a message published
    for the subject while its erasure runs (a replica creating the key afresh) cannot get a readable key
    (:meth:`SubjectKeys.ensure` returns None). Returns the number of keys destroyed."""
    refs = sorted(set(refs))
    if not refs:
        return 0
    destroyed = await session.scalar(
        select(func.count()).where(SubjectKey.ref.in_(refs), SubjectKey.key_encrypted.is_not(None))
    )
    statement = insert(SubjectKey).values([{"ref": r, "account_id": account_id, "key_encrypted": None} for r in refs])
    await session.execute(statement.on_conflict_do_update(index_elements=["ref"], set_={"key_encrypted": None}))
    return int(destroyed or 0)


async def lift_fences(session: AsyncSession, refs: Iterable[str]) -> int:
    """Removes the fences (keyless rows) of ``refs``: the next event under one gets a new key."""
    result = await session.execute(
        delete(SubjectKey).where(SubjectKey.ref.in_(list(refs)), SubjectKey.key_encrypted.is_(None))
    )
    return affected_rows(result)


async def destroy_account_keys(session: AsyncSession, account_id: uuid.UUID) -> int:
    result = await session.execute(
        text("DELETE FROM subject_keys WHERE account_id = :account_id"), {"account_id": account_id}
    )
    return affected_rows(result)


__all__ = [
    "ERASED",
    "SubjectKeys",
    "destroy_account_keys",
    "destroy_legacy_identity_keys",
    "destroy_subject_keys",
    "event_codec",
    "fence_subject_keys",
    "identity_ref",
    "identity_refs",
    "legacy_identity_ref",
    "lift_fences",
    "person_refs",
    "personal_fields",
    "profile_ref",
    "profile_subject_ref",
    "subject_keys_of",
    "subject_ref",
    "with_profile_refs",
]
