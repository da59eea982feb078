"""The Redis client and the registry of every Redis key name (:data:`KEY_KINDS`), each tagged with whose data
it holds, so erasure and the account purge find keys from here instead of scanning the keyspace."""

from __future__ import annotations

import functools
import itertools
import re
import string
import uuid
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import FieldT, KeyT, StreamIdT

from switchboard_common.infra.settings import CommonSettings

SOCKET_TIMEOUT_SECONDS = 30.0

# Any error of the Redis client, for callers whose write is best effort (services import no redis themselves).
CacheError = RedisError


# A stream entry as the decoding client returns it: (entry id, fields).
StreamEntry = tuple[str, dict[str, str]]


class TextRedis(Redis):
    """The client :func:`create_redis` makes: it decodes every reply, so replies are ``str``, not the
    ``bytes | str`` redis-py declares for either mode. Only the reply types differ (type-checking only)."""

    if TYPE_CHECKING:

        @classmethod
        def from_url(
            cls,
            url: str,
            single_connection_client: bool = False,
            auto_close_connection_pool: bool | None = None,
            **kwargs: Any,
        ) -> TextRedis: ...

        def get(self, name: KeyT) -> Awaitable[str | None]: ...

        def hget(self, name: KeyT, key: FieldT) -> Awaitable[str | None]: ...

        # The overrides below narrow a reply inside a dict or list. Those are invariant, so mypy calls the
        # narrower reply an incompatible override, although it is exactly what the decoding client returns.
        def hgetall(self, name: KeyT) -> Awaitable[dict[str, str]]: ...  # type: ignore[override]  # str, not bytes | str, inside a dict

        def hmget(  # type: ignore[override]  # str, not bytes | str, inside a list
            self, name: KeyT, keys: FieldT | Iterable[FieldT], *args: FieldT
        ) -> Awaitable[list[str | None]]: ...

        def xrange(  # type: ignore[override]  # str, not bytes | str, inside a list
            self, name: KeyT, min: StreamIdT = "-", max: StreamIdT = "+", count: int | None = None
        ) -> Awaitable[list[StreamEntry]]: ...

        def xrevrange(  # type: ignore[override]  # str, not bytes | str, inside a list
            self, name: KeyT, max: StreamIdT = "+", min: StreamIdT = "-", count: int | None = None
        ) -> Awaitable[list[StreamEntry]]: ...

        # RESP2 (our protocol): a [stream name, entries] pair per stream; [] when the block times out.
        def xread(  # type: ignore[override]  # redis-py declares list[list[Any]] | dict: the RESP2 reply is this list
            self,
            streams: dict[KeyT, StreamIdT],
            count: int | None = None,
            block: int | None = None,
            max_count: int | None = None,
            max_size: int | None = None,
        ) -> Awaitable[list[tuple[str, list[StreamEntry]]]]: ...

        def spop(self, name: KeyT, count: int | None = None) -> Awaitable[str | list[str] | None]: ...  # type: ignore[override]  # with a count the reply is a list; redis-py declares a set


def create_redis(settings: CommonSettings, *, max_connections: int = 500) -> TextRedis:
    return TextRedis.from_url(
        settings.redis_url,
        decode_responses=True,
        max_connections=max_connections,
        health_check_interval=30,
        # The pool itself never waits (a full pool raises MaxConnectionsError at once); a connect waits this long.
        # Both become 503 overloaded (infra.errors).
        socket_connect_timeout=settings.pool_timeout_seconds,
        # Longer than the longest blocking read (sockets wait on XREAD up to 10 s): redis-py's default read
        # timeout would cut every idle agent socket after 5 s.
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


# Whose data a key holds: erasure derives every key of its subject's contacts, conversations, messages and
# channel identities from here, the account purge every key of the account's entities.
Owner = Literal[
    "installation", "account", "agent", "inbox", "contact", "conversation", "message", "identity", "request"
]


@dataclass(frozen=True)
class KeyKind:
    """One kind of Redis key: its name after the namespace, with ``{field}`` placeholders, and whose data it
    holds. ``shared`` keys hold entries of several subjects (stream entries, hash fields): erasure removes the
    subject's entries, not the key."""

    name: str
    template: str
    owner: Owner
    shared: bool = False

    @functools.cached_property
    def fields(self) -> tuple[str, ...]:
        # Parsed once: every key built (a rate limit per request, a stream per frame) asks for them.
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.template) if name)

    def regex(self, namespace: str) -> re.Pattern[str]:
        pattern = re.escape(self.template)
        for field in self.fields:
            pattern = pattern.replace(re.escape("{" + field + "}"), "[^:]+")
        return re.compile(f"^{re.escape(namespace)}:{pattern}$")


# Every Redis key (and pub/sub channel) Switchboard uses. Nothing else builds key names: a test greps the code
# for names built elsewhere, and checks every key a full run leaves in Redis against these patterns.
KEY_KINDS: tuple[KeyKind, ...] = (
    KeyKind("revocations", "revocations", "installation"),
    KeyKind("presence_grace", "presence:grace", "installation", shared=True),
    KeyKind("live_floor_changed", "live-floor:changed", "installation", shared=True),
    KeyKind("login_failures", "rate:login-fail:{login}", "installation"),
    KeyKind("login_backoff", "rate:login-backoff:{login}", "installation"),
    KeyKind("login_failures_from", "rate:login-fail-addr:{address}", "installation"),
    KeyKind("signups_from", "rate:signup:{address}", "installation"),
    KeyKind("signups_taken_from", "rate:signup-taken:{address}", "installation"),
    KeyKind("widget_sessions_from", "rate:widget-sessions:{network}", "installation"),
    # A routing command's outcome for its one caller (ids and a status, no personal data); expires in a minute.
    KeyKind("routing_reply", "routing:reply:{command}", "installation"),
    KeyKind("presence", "presence:{account}", "account", shared=True),
    KeyKind("presence_choice", "presence-choice:{account}", "account", shared=True),
    KeyKind("webhook_revision", "webhooks:rev:{account}", "account"),
    KeyKind("slack_installs", "slack-installs:{account}", "account"),
    KeyKind("live_floor_digest", "live-floor:digest:{account}", "account"),
    KeyKind("agent_connections", "conns:{agent}", "agent"),
    KeyKind("agent_stream", "stream:agent:{agent}", "agent", shared=True),
    KeyKind("agent_stream_delivered", "pushed:stream:agent:{agent}", "agent"),
    KeyKind("seen", "seen:{inbox}", "inbox"),
    KeyKind("dialogflow_token", "dialogflow:token:{inbox}", "inbox"),
    KeyKind("contact_stream", "stream:contact:{contact}", "contact"),
    KeyKind("contact_stream_delivered", "pushed:stream:contact:{contact}", "contact"),
    KeyKind("widget_messages_of", "rate:widget-messages:{contact}", "contact"),
    KeyKind("relay", "relay:{conversation}", "conversation"),
    KeyKind("typing", "typing:{conversation}:{sender}", "conversation"),
    KeyKind("bot_low_confidence", "bot:low-confidence:{conversation}", "conversation"),
    KeyKind("privacy_confirmation_of", "privacy:confirm:conversation:{conversation}", "conversation"),
    KeyKind("widget_message", "dedupe:web:{message}", "message"),
    KeyKind("outbound_sent", "sent:{channel}:{message}", "message"),
    KeyKind("messenger_sent", "messenger:sent:{message}", "message"),
    KeyKind("messenger_last_inbound", "messenger:last-inbound:{inbox}:{psid}", "identity"),
    KeyKind("messenger_thread_owner", "messenger:thread-owner:{inbox}:{psid}", "identity"),
    KeyKind("privacy_confirmation", "privacy:confirm:{request}", "request"),
    KeyKind("privacy_confirmation_token", "privacy:confirm:token:{token}", "request"),
)
KINDS: dict[str, KeyKind] = {kind.name: kind for kind in KEY_KINDS}
# RateLimiter scopes -> their kind (rate limits are named by scope).
RATE_SCOPES = {
    "login-fail": "login_failures",
    "login-backoff": "login_backoff",
    "login-fail-addr": "login_failures_from",
    "signup": "signups_from",
    "signup-taken": "signups_taken_from",
    "widget-sessions": "widget_sessions_from",
    "widget-messages": "widget_messages_of",
}


class Keys:
    """The one place Redis key names are made (:data:`KEY_KINDS`), namespaced by REDIS_NAMESPACE."""

    def __init__(self, namespace: str) -> None:
        self._ns = namespace
        # Compiled once: kind_of runs for every frame pushed to a socket stream.
        self._patterns = [(kind, kind.regex(namespace)) for kind in KEY_KINDS]
        self._streams = [p for k, p in self._patterns if k.name in ("agent_stream", "contact_stream")]

    @property
    def namespace(self) -> str:
        return self._ns

    def build(self, kind: str, **fields: object) -> str:
        """A key of a registered kind (raises KeyError for an unknown kind, KeyError/ValueError for bad fields)."""
        spec = KINDS[kind]
        values = {name: str(fields[name]) for name in spec.fields}
        if any(not v or ":" in v for v in values.values()):
            raise ValueError(f"key fields of {kind} must be non-empty and free of ':'")
        return f"{self._ns}:{spec.template.format(**values)}"

    def kind_of(self, key: str) -> KeyKind | None:
        """The registered kind a key name belongs to, if any."""
        return next((kind for kind, pattern in self._patterns if pattern.match(key)), None)

    def names_for(self, owners: set[str], values: Mapping[str, Iterable[object]], *, shared: bool = False) -> list[str]:
        """Every key of the kinds owned by ``owners`` that ``values`` (field -> candidate values) can name:
        what erasure and the account purge delete, without looking at the keyspace. Shared keys (entries of
        several people) only with ``shared``: an account's purge deletes them whole, a person's erasure never."""
        names: list[str] = []
        for kind in KEY_KINDS:
            if kind.owner not in owners or (kind.shared and not shared):
                continue
            candidates = [[str(v) for v in values.get(field, ())] for field in kind.fields]
            if not all(candidates):
                continue
            for combination in itertools.product(*candidates):
                names.append(self.build(kind.name, **dict(zip(kind.fields, combination, strict=True))))
        return names

    # Typed names for the code that reads and writes them.

    def revocations(self) -> str:
        """Pub/sub channel: agent credentials changed, open sockets re-check
        (``switchboard_common.domain.accounts.revocation``)."""
        return self.build("revocations")

    def presence_grace(self) -> str:
        return self.build("presence_grace")

    def rate(self, scope: str, key: str) -> str:
        kind = KINDS[RATE_SCOPES[scope]]
        return self.build(kind.name, **{kind.fields[0]: key})

    def routing_reply(self, command_id: uuid.UUID) -> str:
        """A list the account's routing writer pushes a command's outcome to
        (``switchboard_common.domain.conversations.commands``)."""
        return self.build("routing_reply", command=command_id)

    def presence(self, tenant_id: uuid.UUID) -> str:
        return self.build("presence", account=tenant_id)

    def presence_choice(self, tenant_id: uuid.UUID) -> str:
        return self.build("presence_choice", account=tenant_id)

    def webhook_revision(self, account_id: uuid.UUID) -> str:
        return self.build("webhook_revision", account=account_id)

    def slack_installs(self, account_id: uuid.UUID) -> str:
        return self.build("slack_installs", account=account_id)

    def agent_connections(self, agent_id: uuid.UUID) -> str:
        return self.build("agent_connections", agent=agent_id)

    def agent_stream(self, agent_id: uuid.UUID) -> str:
        return self.build("agent_stream", agent=agent_id)

    def contact_stream(self, contact_id: uuid.UUID) -> str:
        return self.build("contact_stream", contact=contact_id)

    def delivered(self, stream: str) -> str:
        """The ids already pushed to a stream (``StreamPublisher.push_once``)."""
        if not any(pattern.match(stream) for pattern in self._streams):
            raise ValueError("not a socket stream")
        return f"{self._ns}:pushed:{stream.removeprefix(self._ns + ':')}"

    def seen(self, inbox_id: uuid.UUID) -> str:
        return self.build("seen", inbox=inbox_id)

    def dialogflow_token(self, inbox_id: uuid.UUID) -> str:
        return self.build("dialogflow_token", inbox=inbox_id)

    def relay(self, conversation_id: uuid.UUID) -> str:
        return self.build("relay", conversation=conversation_id)

    def typing(self, conversation_id: uuid.UUID, sender: str) -> str:
        """``sender``: "visitor" or "agent"."""
        return self.build("typing", conversation=conversation_id, sender=sender)

    def bot_low_confidence(self, conversation_id: uuid.UUID) -> str:
        return self.build("bot_low_confidence", conversation=conversation_id)

    def widget_message(self, message_id: uuid.UUID) -> str:
        return self.build("widget_message", message=message_id)

    def outbound_sent(self, channel: str, message_id: uuid.UUID) -> str:
        return self.build("outbound_sent", channel=channel, message=message_id)

    def messenger_sent(self, message_id: uuid.UUID) -> str:
        return self.build("messenger_sent", message=message_id)

    def messenger_last_inbound(self, inbox_id: uuid.UUID, psid_pseudonym: str) -> str:
        """Keyed by the PSID's pseudonym, never the PSID (``Pseudonyms``, purpose ``psid``)."""
        return self.build("messenger_last_inbound", inbox=inbox_id, psid=psid_pseudonym)

    def messenger_thread_owner(self, inbox_id: uuid.UUID, psid_pseudonym: str) -> str:
        return self.build("messenger_thread_owner", inbox=inbox_id, psid=psid_pseudonym)

    def privacy_confirmation(self, request_id: uuid.UUID) -> str:
        return self.build("privacy_confirmation", request=request_id)

    def privacy_confirmation_of(self, conversation_id: uuid.UUID) -> str:
        return self.build("privacy_confirmation_of", conversation=conversation_id)

    def privacy_confirmation_token(self, token_hash: str) -> str:
        return self.build("privacy_confirmation_token", token=token_hash)

    def live_floor_changed(self) -> str:
        """Set of accounts whose live floor (queues, agents' load) may have changed since it was last pushed
        (``switchboard_gateway.reports.live``)."""
        return self.build("live_floor_changed")

    def live_floor_digest(self, tenant_id: uuid.UUID) -> str:
        """Digest of the live floor last pushed to the account's admins (a push only when it differs)."""
        return self.build("live_floor_digest", account=tenant_id)
