"""The gateway's consumer: stores inbound messages and pushes each event to the sockets it concerns.

Runs in the shared group ``gateway-timeline`` (one replica handles each event). Effects are idempotent:
messages are inserted ``ON CONFLICT DO NOTHING`` and socket pushes go through ``push_once`` keyed by the
event id (a message's frame by the message id, see ``message_dedupe_id``), so a redelivery after a crash
changes nothing twice.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import Select, func, select, text, update
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.conversations import visibility
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.events import (
    AgentPresenceChanged,
    ContactUpdated,
    ConversationAssigned,
    ConversationOffered,
    ConversationQueued,
    ConversationSlaBreached,
    ConversationSlaUpdated,
    ConversationStatusChanged,
    ConversationUnassigned,
    Event,
    MessageCreated,
    MessageDeleted,
    MessageDeliveryUpdated,
    MessageUpdated,
    NoteCreated,
    utcnow,
)
from switchboard_common.domain.labels.queries import labels_by_conversation, labels_of
from switchboard_common.domain.privacy.consent import pass_through_sql
from switchboard_common.domain.search.languages import guess_language
from switchboard_common.infra.bus import AGENTS_TOPIC, CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.realtime import Push
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.tracing import current_trace_id

from switchboard_gateway.conversations.service import conversation_out, message_out
from switchboard_gateway.reports import live

RECENT_MESSAGES_ON_ASSIGN = 50
# What the handler acts on; the rest of the topic is skipped from record headers, never decrypted or parsed.
TIMELINE_EVENT_TYPES = frozenset(
    {
        "message.created",
        "note.created",
        "conversation.assigned",
        "conversation.offered",
        "conversation.unassigned",
        "conversation.status_changed",
        "conversation.queued",
        "message.delivery_updated",
        "message.updated",
        "message.deleted",
        "contact.updated",
        "agent.presence_changed",
        "conversation.sla_breached",
        "conversation.sla_updated",
    }
)
# Stores a message event (by id, once) and touches its conversation, returning who gets it live. Pass-through
# inboxes: the content is delivered (frames) but never stored, only the routing metadata.
STORE_MESSAGE = text(
    f"""
    WITH target AS (
        SELECT c.id, c.timeline_assignee_id AS assignee, {pass_through_sql("i.settings")} AS pass_through,
               nullif(left(lower(split_part(i.settings ->> 'language', '-', 1)), 8), '') AS inbox_language
        FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
        WHERE c.id = :conversation_id AND c.account_id = :account_id
    ), stored AS (
        INSERT INTO messages (id, account_id, conversation_id, direction, sender_type, sender_id, text,
                              attachments, external_id, delivery_status, created_at, language)
        SELECT CAST(:id AS uuid), CAST(:account_id AS uuid), t.id, CAST(:direction AS varchar),
               CAST(:sender_type AS varchar), CAST(:sender_id AS uuid),
               CASE WHEN t.pass_through THEN NULL ELSE CAST(:text AS text) END,
               CASE WHEN t.pass_through THEN '[]'::jsonb ELSE CAST(:attachments AS jsonb) END,
               CAST(:external_id AS varchar), CAST(:delivery_status AS varchar), CAST(:created_at AS timestamptz),
               coalesce(CAST(:language AS varchar), t.inbox_language)
        FROM target t
        ON CONFLICT (id) DO NOTHING
    ), touched AS (
        UPDATE conversations SET last_message_at = :created_at
        WHERE id = (SELECT id FROM target) AND CAST(:inbound AS boolean)
    )
    SELECT assignee, pass_through FROM target
    """  # noqa: S608 - the pass-through rule is a fixed expression, no input
)
# Delivery statuses that come after each one: an update never replaces a later one (receipts can overtake).
LATER_STATUSES: dict[str, tuple[str, ...]] = {
    "sent": ("delivered", "read"),
    "delivered": ("read",),
    "failed": ("delivered", "read"),
}
# The same for a run of message events of one poll: one statement stores them all (``ord`` is each one's place).
STORE_MESSAGES = text(
    f"""
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            ord int, id uuid, account_id uuid, conversation_id uuid, direction varchar, sender_type varchar,
            sender_id uuid, text text, attachments jsonb, external_id varchar, delivery_status varchar,
            created_at timestamptz, inbound boolean, language varchar)
    ), target AS (
        SELECT c.id, c.timeline_assignee_id AS assignee, {pass_through_sql("i.settings")} AS pass_through,
               nullif(left(lower(split_part(i.settings ->> 'language', '-', 1)), 8), '') AS inbox_language
        FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
        WHERE (c.id, c.account_id) IN (SELECT conversation_id, account_id FROM input)
    ), stored AS (
        INSERT INTO messages (id, account_id, conversation_id, direction, sender_type, sender_id, text,
                              attachments, external_id, delivery_status, created_at, language)
        SELECT r.id, r.account_id, t.id, r.direction, r.sender_type, r.sender_id,
               CASE WHEN t.pass_through THEN NULL ELSE r.text END,
               CASE WHEN t.pass_through THEN '[]'::jsonb ELSE r.attachments END,
               r.external_id, r.delivery_status, r.created_at, coalesce(r.language, t.inbox_language)
        FROM input r JOIN target t ON t.id = r.conversation_id
        ORDER BY r.ord
        ON CONFLICT (id) DO NOTHING
    ), touched AS (
        UPDATE conversations c SET last_message_at = latest.at
        FROM (SELECT conversation_id, max(created_at) AS at FROM input WHERE inbound GROUP BY conversation_id) latest
        WHERE c.id = latest.conversation_id AND c.id IN (SELECT id FROM target)
    )
    SELECT r.ord, t.assignee, t.pass_through FROM input r JOIN target t ON t.id = r.conversation_id
    """  # noqa: S608 - the pass-through rule is a fixed expression, no input
)
# Pass-through content waiting for its first agent is dropped after this long.
RELAY_TTL_SECONDS = 3600
# Routing events a poll's run handles together (Timeline.handle_routing): their reads in a few statements per
# account and every frame in one pipeline. One by one, each cost three to eight round trips and a Redis call.
ROUTING_BATCH_TYPES = frozenset(
    {
        "conversation.assigned",
        "conversation.offered",
        "conversation.unassigned",
        "conversation.status_changed",
        "conversation.queued",
    }
)
RoutingEvent = (
    ConversationAssigned | ConversationOffered | ConversationUnassigned | ConversationStatusChanged | ConversationQueued
)
UpdatedCause = ConversationAssigned | ConversationUnassigned | ConversationStatusChanged | ConversationQueued
# The agent whose timeline a conversation's messages go to, one conversation per statement in autocommit: a
# statement holds one row lock at a time, so it cannot deadlock with the routing writer's batches.
SET_TIMELINE_ASSIGNEE = text(
    "UPDATE conversations SET timeline_assignee_id = :agent WHERE id = :conversation AND account_id = :account"
)
CLEAR_TIMELINE_ASSIGNEE = text(
    "UPDATE conversations SET timeline_assignee_id = NULL"
    " WHERE id = :conversation AND account_id = :account AND timeline_assignee_id = :agent"
)


def recent_messages(conversation_ids: Sequence[uuid.UUID]) -> Select[Message]:
    """The latest :data:`RECENT_MESSAGES_ON_ASSIGN` messages of each conversation, in one query."""
    ranked = (
        select(
            Message.id,
            func.row_number()
            .over(partition_by=Message.conversation_id, order_by=(Message.created_at.desc(), Message.id))
            .label("rank"),
        )
        .where(Message.conversation_id.in_(list(conversation_ids)))
        .subquery()
    )
    return select(Message).join(ranked, ranked.c.id == Message.id).where(ranked.c.rank <= RECENT_MESSAGES_ON_ASSIGN)


def newest_first(messages: Sequence[Message]) -> list[Message]:
    """As the one-by-one read orders them: newest first, ties by id."""
    return sorted(sorted(messages, key=lambda m: m.id), key=lambda m: m.created_at, reverse=True)


def updated_frame(event: UpdatedCause, conversation: Conversation) -> dict[str, Any]:
    """``conversation.updated``: assignee and status as they are now, for every agent's list and open view."""
    return {
        "type": "conversation.updated",
        "conversation_id": str(event.conversation_id),
        "cause": event.type,
        "status": conversation.status,
        "assignee_id": str(conversation.assignee_id) if conversation.assignee_id else None,
        "team_id": str(conversation.team_id) if conversation.team_id else None,
        "event_id": str(event.event_id),
    }


def previous_holder(event: UpdatedCause) -> uuid.UUID | None:
    """The agent a conversation was just taken from (their list drops it)."""
    if isinstance(event, ConversationAssigned):
        return event.payload.previous_agent_id
    if isinstance(event, ConversationUnassigned):
        return event.payload.agent_id
    return None


def visitor_frame(
    event: ConversationAssigned | ConversationUnassigned | ConversationStatusChanged,
) -> dict[str, Any] | None:
    """What the customer's widget learns: an agent took over (no more queue line), or it was resolved."""
    if isinstance(event, ConversationAssigned):
        kind = "conversation.assigned"
    elif isinstance(event, ConversationStatusChanged) and event.payload.status == "resolved":
        kind = "conversation.resolved"
    else:
        return None
    return {"type": kind, "conversation_id": str(event.conversation_id), "event_id": str(event.event_id)}


def assigned_frame(
    event: ConversationAssigned,
    conversation: Conversation,
    *,
    contact_name: str | None,
    labels: list[str],
    messages: Sequence[Message],
    held: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The assignment frame: the conversation and its recent ``messages`` (newest first, as read), pass-through
    content ``held`` in Redis put back into them."""
    conversation_frame = conversation_out(conversation, labels=labels).model_dump(mode="json")
    # The event's agent, not the row's current assignee: a later reassignment has its own event.
    conversation_frame["assignee_id"] = str(event.payload.agent_id)
    # Who it is, for the agent's notification and list (the conversation list's own field).
    conversation_frame["contact_name"] = contact_name
    return {
        "type": "conversation.assigned",
        "event_id": str(event.event_id),
        "conversation_id": str(event.conversation_id),
        "trace_id": current_trace_id(),
        "agent_id": str(event.payload.agent_id),
        "conversation": conversation_frame,
        "messages": [
            {**out, "text": held[out["id"]]["text"]} if out["id"] in held else out
            for out in (message_out(m).model_dump(mode="json") for m in reversed(messages))
        ],
    }


def routing_frame(event: Event) -> dict[str, Any]:
    """An offer, an unassignment, a status change or a queueing, as the agent concerned sees it."""
    return {
        "type": event.type,
        "event_id": str(event.event_id),
        "conversation_id": str(event.conversation_id),
        **event.payload.model_dump(mode="json"),
    }


def taken_frame(event: ConversationAssigned) -> dict[str, Any]:
    """For the agent a conversation was reassigned away from."""
    return {
        "type": "conversation.unassigned",
        "event_id": str(event.event_id),
        "conversation_id": str(event.conversation_id),
        "agent_id": str(event.payload.agent_id),
    }


def message_frame(event: MessageCreated) -> dict[str, Any]:
    p = event.payload
    return {
        "type": "message.created",
        "event_id": str(event.event_id),
        "conversation_id": str(event.conversation_id),
        # The trace the first request started (W3C, via Kafka headers): lets ops follow one message end to end.
        "trace_id": current_trace_id(),
        "message": {
            "id": str(p.message_id),
            "direction": p.direction,
            "sender_type": p.sender_type,
            "sender_id": str(p.sender_id) if p.sender_id else None,
            "text": p.text,
            "attachments": [a.model_dump(mode="json") for a in p.attachments],
            "created_at": p.created_at.isoformat(),
        },
    }


def message_dedupe_id(message_id: uuid.UUID) -> str:
    """What a message's frame is deduplicated by on an agent's stream: the message, not the event carrying it.

    A message reaches an agent either inside the assignment frame or as its own frame. After a broker failure
    its event can be handled again once the assignment is stored (or a publisher's retry can carry it in a
    second event): keyed by the message, and marked when an assignment carries it, it is shown once.
    """
    return f"message:{message_id}"


class Timeline:
    def __init__(self, resources: Resources) -> None:
        self.res = resources

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="gateway-timeline",
            topics=[CONVERSATIONS_TOPIC, AGENTS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=TIMELINE_EVENT_TYPES),
            # Messages, by far most of the topic, are stored and pushed a poll at a time; routing events are read
            # and pushed a poll at a time too.
            batch_handler=self.handle_batch,
            batch_types=frozenset({"message.created"}) | ROUTING_BATCH_TYPES,
        )

    async def handle_batch(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        """A poll's run of batchable events, in their order: runs of messages stored together
        (:meth:`handle_messages`), runs of routing events read together (:meth:`handle_routing`)."""
        for is_message, run in itertools.groupby(batch, key=lambda item: item[0].type == "message.created"):
            items = list(run)
            if is_message:
                await self.handle_messages(items)
            else:
                await self.handle_routing([event for event, _record in items])

    async def handle_routing(self, events: Sequence[Event]) -> None:
        """A run of routing events (assigned, offered, unassigned, status changed, queued) with what
        :meth:`handle` does for each, in order, reading per account in a few statements what one by one read
        per event, and pushing every frame of the run in one pipeline. ``conversation.updated`` goes only to
        seers with a live socket (a console that connects reloads its list)."""
        by_account: dict[uuid.UUID, list[RoutingEvent]] = {}
        for event in events:
            if isinstance(event, RoutingEvent) and event.conversation_id is not None:
                by_account.setdefault(event.tenant_id, []).append(event)
        pushes: list[Push] = []
        updates: dict[int, list[uuid.UUID]] = {}  # a conversation.updated frame's place in pushes: who may see it
        relayed: list[str] = []
        for account_id, account_events in by_account.items():
            await self._route_account(account_id, account_events, pushes, updates, relayed)
        if updates:
            # Who may see each conversation, narrowed to who has a socket to show it on: one Redis call for the run.
            live = await presence.connected(
                self.res.redis, self.res.keys, [agent for agents in updates.values() for agent in agents]
            )
            fanned: list[Push] = []
            for index, push in enumerate(pushes):
                if index not in updates:
                    fanned.append(push)
                    continue
                fanned += [
                    (self.res.keys.agent_stream(agent), push[1], push[2]) for agent in updates[index] if agent in live
                ]
            pushes = fanned
        await self.res.streams.push_many(pushes)
        if relayed:
            await self.res.redis.delete(*relayed)

    async def _route_account(
        self,
        account_id: uuid.UUID,
        events: list[RoutingEvent],
        pushes: list[Push],
        updates: dict[int, list[uuid.UUID]],
        relayed: list[str],
    ) -> None:
        """One account's part of :meth:`handle_routing`: its reads, its timeline assignees, its frames."""
        ids = list(dict.fromkeys(e.conversation_id for e in events if e.conversation_id is not None))
        assigned = list(dict.fromkeys(e.conversation_id for e in events if isinstance(e, ConversationAssigned)))
        updated = list(dict.fromkeys(e.conversation_id for e in events if isinstance(e, UpdatedCause)))
        recent: dict[uuid.UUID, list[Message]] = {}
        async with tenant_session(self.res.sessionmaker, account_id) as session:
            conversations = {
                c.id: c for c in (await session.scalars(select(Conversation).where(Conversation.id.in_(ids)))).all()
            }
            seers = await visibility.seers_of_each(session, account_id, [i for i in updated if i in conversations])
            assigned = [i for i in assigned if i in conversations]
            names: dict[uuid.UUID, list[str]] = {}
            contact_names: dict[uuid.UUID, str | None] = {}
            if assigned:
                contacts = {conversations[i].contact_id for i in assigned}
                contact_names = {
                    row.id: row.name
                    for row in await session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(contacts)))
                }
                names = await labels_by_conversation(session, assigned)
                for message in (await session.scalars(recent_messages(assigned))).all():
                    recent.setdefault(message.conversation_id, []).append(message)
        held: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
        if assigned:
            async with self.res.redis.pipeline(transaction=False) as pipe:
                for conversation_id in assigned:
                    pipe.lrange(self._relay_key(conversation_id), 0, -1)
                lists = await pipe.execute()
            for conversation_id, items in zip(assigned, lists, strict=True):
                if items:
                    held[conversation_id] = {m["id"]: m for m in map(json.loads, items)}
                    relayed.append(self._relay_key(conversation_id))
        # Whose timeline each conversation's messages go to, as the events move it, in their order.
        timeline_assignee = {i: c.timeline_assignee_id for i, c in conversations.items()}
        async with self.res.engine.connect() as pooled:
            autocommit = await pooled.execution_options(isolation_level="AUTOCOMMIT")
            for event in events:
                conversation = conversations.get(event.conversation_id)
                if conversation is None:
                    continue  # erased since
                if isinstance(event, ConversationAssigned):
                    await autocommit.execute(
                        SET_TIMELINE_ASSIGNEE,
                        {"agent": event.payload.agent_id, "conversation": conversation.id, "account": account_id},
                    )
                    timeline_assignee[conversation.id] = event.payload.agent_id
                elif isinstance(event, ConversationUnassigned) and event.payload.agent_id is not None:
                    await autocommit.execute(
                        CLEAR_TIMELINE_ASSIGNEE,
                        {"agent": event.payload.agent_id, "conversation": conversation.id, "account": account_id},
                    )
                    if timeline_assignee.get(conversation.id) == event.payload.agent_id:
                        timeline_assignee[conversation.id] = None
                self._frames_of(
                    event,
                    conversation,
                    timeline_assignee.get(conversation.id),
                    seers.get(conversation.id, []),
                    pushes,
                    updates,
                    contact_name=contact_names.get(conversation.contact_id),
                    labels=names.get(conversation.id, []),
                    messages=newest_first(recent.get(conversation.id, [])),
                    held=held.get(conversation.id, {}),
                )

    def _frames_of(
        self,
        event: RoutingEvent,
        conversation: Conversation,
        timeline_assignee: uuid.UUID | None,
        seers: list[uuid.UUID],
        pushes: list[Push],
        updates: dict[int, list[uuid.UUID]],
        *,
        contact_name: str | None,
        labels: list[str],
        messages: Sequence[Message],
        held: dict[str, dict[str, Any]],
    ) -> None:
        """The frames :meth:`handle` pushes for ``event``, in its order, appended to ``pushes``; the
        ``conversation.updated`` frame once, with who may see it in ``updates`` (fanned out later)."""
        keys = self.res.keys
        if isinstance(event, ConversationAssigned | ConversationUnassigned | ConversationStatusChanged):
            frame = visitor_frame(event)
            if frame is not None and conversation.channel == "web":
                pushes.append((keys.contact_stream(conversation.contact_id), f"visitor:{event.event_id}", frame))
        if isinstance(event, UpdatedCause):
            also = previous_holder(event)
            updates[len(pushes)] = list(dict.fromkeys([*seers, *([also] if also else [])]))
            pushes.append(("", f"account:{event.event_id}", updated_frame(event, conversation)))  # fanned out later
        if isinstance(event, ConversationAssigned):
            agent = event.payload.agent_id
            frame = assigned_frame(
                event, conversation, contact_name=contact_name, labels=labels, messages=messages, held=held
            )
            carried = [message_dedupe_id(m.id) for m in messages]
            pushes.append((keys.agent_stream(agent), str(event.event_id), frame, carried))
            previous = event.payload.previous_agent_id
            if previous is not None and previous != agent:
                pushes.append((keys.agent_stream(previous), str(event.event_id), taken_frame(event)))
        elif isinstance(event, ConversationOffered | ConversationUnassigned):
            if event.payload.agent_id is not None:
                pushes.append((keys.agent_stream(event.payload.agent_id), str(event.event_id), routing_frame(event)))
        elif timeline_assignee is not None:  # status changed, queued
            pushes.append((keys.agent_stream(timeline_assignee), str(event.event_id), routing_frame(event)))

    async def handle_messages(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        """A run of ``message.created`` events: one statement stores them, one pipeline pushes their frames."""
        events = [e for e, _r in batch if isinstance(e, MessageCreated)]
        rows = [
            {
                "ord": n,
                "id": str(e.payload.message_id),
                "account_id": str(e.tenant_id),
                "conversation_id": str(e.conversation_id),
                "direction": e.payload.direction,
                "sender_type": e.payload.sender_type,
                "sender_id": str(e.payload.sender_id) if e.payload.sender_id else None,
                "text": e.payload.text,
                "attachments": [a.model_dump(mode="json") for a in e.payload.attachments],
                "external_id": e.payload.external_id,
                "delivery_status": None if e.payload.direction == "inbound" else "pending",
                "created_at": e.payload.created_at.isoformat(),
                "inbound": e.payload.direction == "inbound",
                # As in STORE_MESSAGE: the language its letters tell, else the inbox's (search dictionaries).
                "language": guess_language(e.payload.text),
            }
            for n, e in enumerate(events)
        ]
        async with self.res.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            found = {
                row.ord: row
                for row in await autocommit.execute(STORE_MESSAGES, {"rows": json.dumps(rows, default=str)})
            }
        pushes: list[tuple[str, str, dict[str, Any]]] = []
        held: list[MessageCreated] = []
        for n, event in enumerate(events):
            row = found.get(n)
            if row is None:
                continue  # the conversation was erased
            p = event.payload
            if row.pass_through and row.assignee is None:
                held.append(event)
            elif row.assignee is not None and not (p.sender_type == "agent" and p.sender_id == row.assignee):
                pushes.append(
                    (self.res.keys.agent_stream(row.assignee), message_dedupe_id(p.message_id), message_frame(event))
                )
        for event in held:
            key = self._relay_key(event.conversation_id)
            await self.res.redis.rpush(key, json.dumps(message_frame(event)["message"]))
            await self.res.redis.expire(key, RELAY_TTL_SECONDS)
        await self.res.streams.push_many(pushes)

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, MessageCreated):
            await self._on_message(event)
        elif isinstance(event, NoteCreated):
            await self._on_note(event)
        elif isinstance(event, AgentPresenceChanged):
            await live.mark_changed(self.res, [event.tenant_id])
            await self._to_account(
                event,
                {
                    "type": "agent.presence",
                    "agent_id": str(event.payload.agent_id),
                    "status": event.payload.status,
                },
            )
        if isinstance(event, ConversationAssigned | ConversationUnassigned | ConversationStatusChanged):
            await self._to_visitor(event)
        if isinstance(
            event, ConversationAssigned | ConversationUnassigned | ConversationStatusChanged | ConversationQueued
        ):
            await self._conversation_updated(event)
        if isinstance(event, ConversationAssigned):
            await self._on_assigned(event)
        elif isinstance(event, ConversationOffered | ConversationUnassigned):
            await self._on_routing_change(event)
        elif isinstance(event, ConversationStatusChanged | ConversationQueued):
            await self._push_to_assignee(event.conversation_id, event, routing_frame(event))
        elif isinstance(event, MessageDeliveryUpdated):
            await self._on_delivery(event)
        elif isinstance(event, MessageUpdated | MessageDeleted):
            await self._on_edit(event)
        elif isinstance(event, ContactUpdated):
            await self._on_contact_updated(event)
        elif isinstance(event, ConversationSlaBreached):
            await self._on_sla_breached(event)
        elif isinstance(event, ConversationSlaUpdated):
            # Only agents who may see the conversation (the account's visibility rule) learn its clocks.
            await self._to_seers(
                event,
                {
                    "type": "conversation.sla",
                    "conversation_id": str(event.conversation_id),
                    "sla": event.payload.sla,
                },
            )

    async def _on_sla_breached(self, event: ConversationSlaBreached) -> None:
        """A breach reaches the conversation's assignee and every owner and admin of the account."""
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            admins = (
                await session.scalars(
                    select(User.id).where(
                        User.deleted_at.is_(None),
                        User.role.in_(("owner", "admin")),
                    )
                )
            ).all()
            assignee = await session.scalar(
                select(Conversation.assignee_id).where(Conversation.id == event.conversation_id)
            )
        recipients = {*admins, *([assignee] if assignee else []), *([p] if (p := event.payload.agent_id) else [])}
        await self.res.streams.push_once_to_each(
            [self.res.keys.agent_stream(agent) for agent in recipients],
            str(event.event_id),
            {
                "type": "conversation.sla_breached",
                "event_id": str(event.event_id),
                "conversation_id": str(event.conversation_id),
                **event.payload.model_dump(mode="json"),
            },
        )

    async def _to_account(self, event: Event, frame: dict[str, Any]) -> None:
        """A frame for every agent of the account: screens showing this conversation or agent stay current."""
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            agents = (await session.scalars(select(User.id).where(User.deleted_at.is_(None)))).all()
        await self.res.streams.push_once_to_each(
            [self.res.keys.agent_stream(agent) for agent in agents],
            f"account:{event.event_id}",
            {**frame, "event_id": str(event.event_id)},
        )

    async def _to_seers(
        self, event: Event, frame: dict[str, Any], *, also: tuple[uuid.UUID | None, ...] = ()
    ) -> list[uuid.UUID]:
        """A frame for the agents who may see the conversation (account visibility setting), plus ``also``
        (the agent who just lost it learns that it went). Returns who got it."""
        assert event.conversation_id is not None
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            agents = await visibility.seers(session, event.tenant_id, event.conversation_id)
        recipients = list(dict.fromkeys([*agents, *(a for a in also if a is not None)]))
        await self.res.streams.push_once_to_each(
            [self.res.keys.agent_stream(agent) for agent in recipients],
            f"account:{event.event_id}",
            {**frame, "event_id": str(event.event_id)},
        )
        return recipients

    async def _on_note(self, event: NoteCreated) -> None:
        """A private note reaches the agents who may see its conversation (never a customer's stream); the
        agents it mentions get a ``note.mention`` frame too."""
        p = event.payload
        message = {
            "id": str(p.message_id),
            "direction": "outbound",
            "sender_type": "agent",
            "sender_id": str(p.author_id),
            "text": p.text,
            "attachments": [],
            "private": True,
            "mentions": [str(m) for m in p.mentions],
            "created_at": p.created_at.isoformat(),
        }
        seers = await self._to_seers(
            event, {"type": "note.created", "conversation_id": str(event.conversation_id), "message": message}
        )
        mentioned = [agent for agent in p.mentions if agent in seers and agent != p.author_id]
        if mentioned:
            await self.res.streams.push_once_to_each(
                [self.res.keys.agent_stream(agent) for agent in mentioned],
                f"mention:{event.event_id}",
                {
                    "type": "note.mention",
                    "event_id": str(event.event_id),
                    "conversation_id": str(event.conversation_id),
                    "author_id": str(p.author_id),
                    "message": message,
                },
            )

    async def _conversation_updated(self, event: UpdatedCause) -> None:
        """Assignee and status as they are now, for the lists and open views of the agents who may see the
        conversation and have a socket to show it on (a console that connects reloads its list)."""
        assert event.conversation_id is not None
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            conversation = await session.get(Conversation, event.conversation_id)
            if conversation is None:
                return
            seers = await visibility.seers(session, event.tenant_id, event.conversation_id)
        also = previous_holder(event)
        recipients = list(dict.fromkeys([*seers, *([also] if also else [])]))
        live = await presence.connected(self.res.redis, self.res.keys, recipients)
        await self.res.streams.push_once_to_each(
            [self.res.keys.agent_stream(agent) for agent in recipients if agent in live],
            f"account:{event.event_id}",
            updated_frame(event, conversation),
        )

    async def _to_visitor(
        self, event: ConversationAssigned | ConversationUnassigned | ConversationStatusChanged
    ) -> None:
        """The customer's widget learns that an agent took over (no more queue line) or that it was resolved."""
        frame = visitor_frame(event)
        if frame is None:
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            row = (
                await session.execute(
                    select(Conversation.contact_id, Conversation.channel).where(
                        Conversation.id == event.conversation_id
                    )
                )
            ).first()
        if row is None or row.channel != "web":
            return
        await self.res.streams.push_once(
            self.res.keys.contact_stream(row.contact_id), f"visitor:{event.event_id}", frame
        )

    async def _on_contact_updated(self, event: ContactUpdated) -> None:
        """A rectified contact: agents holding one of its open conversations replace the fields they show."""
        p = event.payload
        changes = {field: getattr(p, field) for field in p.fields}
        if any(value is None for value in changes.values()):
            return  # its key was destroyed since (an erasure followed): nothing left to show
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            rows = (
                await session.execute(
                    select(Conversation.id, Conversation.timeline_assignee_id).where(
                        Conversation.contact_id == p.contact_id,
                        Conversation.timeline_assignee_id.is_not(None),
                        Conversation.status != "resolved",
                    )
                )
            ).all()
        for conversation_id, assignee in rows:
            if assignee is None:  # never: the query keeps only rows with an assignee
                continue
            await self.res.streams.push_once(
                self.res.keys.agent_stream(assignee),
                f"{event.event_id}:{conversation_id}",
                {
                    "type": "contact.updated",
                    "event_id": str(event.event_id),
                    "conversation_id": str(conversation_id),
                    "contact_id": str(p.contact_id),
                    "changes": changes,
                },
            )

    async def _on_message(self, event: MessageCreated) -> None:
        p = event.payload
        # One statement, in autocommit (a statement is atomic): the hottest consumer path of the system pays
        # one database round trip per message instead of five (BEGIN, read, insert, update, COMMIT).
        async with self.res.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (
                await autocommit.execute(
                    STORE_MESSAGE,
                    {
                        "id": p.message_id,
                        "account_id": event.tenant_id,
                        "conversation_id": event.conversation_id,
                        "direction": p.direction,
                        "sender_type": p.sender_type,
                        "sender_id": p.sender_id,
                        "text": p.text,
                        "attachments": json.dumps([a.model_dump(mode="json") for a in p.attachments]),
                        "external_id": p.external_id,
                        "delivery_status": None if p.direction == "inbound" else "pending",
                        "created_at": p.created_at,
                        "inbound": p.direction == "inbound",
                        # From the letters when they tell (Greek, Hungarian, Albanian), else the inbox's language.
                        "language": guess_language(p.text),
                    },
                )
            ).first()
        if row is None:
            return  # the conversation was erased: nothing to store or show
        assignee = row.assignee
        stored = not row.pass_through
        if not stored and assignee is None:
            # Nobody to hand it to yet: hold the content briefly in Redis, only until an agent receives it.
            key = self._relay_key(event.conversation_id)
            await self.res.redis.rpush(key, json.dumps(message_frame(event)["message"]))
            await self.res.redis.expire(key, RELAY_TTL_SECONDS)
        # Agents see customer and bot turns live; an agent's own reply is already on their screen.
        if assignee is not None and not (p.sender_type == "agent" and p.sender_id == assignee):
            await self.res.streams.push_once(
                self.res.keys.agent_stream(assignee), message_dedupe_id(p.message_id), message_frame(event)
            )

    async def _on_assigned(self, event: ConversationAssigned) -> None:
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            conversation = await session.get(Conversation, event.conversation_id, with_for_update=True)
            if conversation is None:
                return
            # From here on (in event order) this agent gets the conversation's messages one by one; the ones
            # stored before this point travel inside the assignment frame.
            conversation.timeline_assignee_id = event.payload.agent_id
            contact_name = await session.scalar(select(Contact.name).where(Contact.id == conversation.contact_id))
            names = await labels_of(session, conversation.id)
            messages = (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == event.conversation_id)
                    .order_by(Message.created_at.desc(), Message.id)
                    .limit(RECENT_MESSAGES_ON_ASSIGN)
                )
            ).all()
        held = {
            m["id"]: m
            for m in map(json.loads, await self.res.redis.lrange(self._relay_key(event.conversation_id), 0, -1))
        }
        frame = assigned_frame(
            event, conversation, contact_name=contact_name, labels=names, messages=messages, held=held
        )
        await self.res.streams.push_once(
            self.res.keys.agent_stream(event.payload.agent_id),
            str(event.event_id),
            frame,
            carried=[message_dedupe_id(m.id) for m in messages],
        )
        if held:
            await self.res.redis.delete(self._relay_key(event.conversation_id))
        previous = event.payload.previous_agent_id
        if previous is not None and previous != event.payload.agent_id:
            await self.res.streams.push_once(
                self.res.keys.agent_stream(previous), str(event.event_id), taken_frame(event)
            )

    async def _on_edit(self, event: MessageUpdated | MessageDeleted) -> None:
        """A customer's edit updates the stored text; a deletion soft-deletes it (the text is removed)."""
        p = event.payload
        now = utcnow()
        deleted = isinstance(event, MessageDeleted)
        text = None if isinstance(event, MessageDeleted) else event.payload.text
        values: dict[str, Any] = (
            {"text": None, "attachments": [], "deleted_at": now} if deleted else {"text": text, "edited_at": now}
        )
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            await session.execute(update(Message).where(Message.id == p.message_id).values(**values))
        await self._push_to_assignee(
            event.conversation_id,
            event,
            {
                "type": event.type,
                "event_id": str(event.event_id),
                "conversation_id": str(event.conversation_id),
                "message_id": str(p.message_id),
                "text": text,
                "deleted": deleted,
            },
        )

    def _relay_key(self, conversation_id: uuid.UUID) -> str:
        return self.res.keys.relay(conversation_id)

    async def _on_routing_change(self, event: ConversationOffered | ConversationUnassigned) -> None:
        """Offers go to the offered agent; an unassigned agent is told and stops getting the messages."""
        agent_id = event.payload.agent_id
        if isinstance(event, ConversationUnassigned):
            async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == event.conversation_id, Conversation.timeline_assignee_id == agent_id)
                    .values(timeline_assignee_id=None)
                )
        if agent_id is None:
            return
        await self.res.streams.push_once(
            self.res.keys.agent_stream(agent_id), str(event.event_id), routing_frame(event)
        )

    async def _on_delivery(self, event: MessageDeliveryUpdated) -> None:
        p = event.payload
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            await session.execute(
                update(Message)
                .where(Message.id == p.message_id)
                # Never step back: a late "sent" must not overwrite "delivered" or "read".
                .where(
                    Message.delivery_status.not_in(LATER_STATUSES.get(p.status, ())) | Message.delivery_status.is_(None)
                )
                .values(
                    delivery_status=p.status,
                    delivery_error=p.reason,
                    **({"external_id": p.external_id} if p.external_id else {}),
                )
            )
        await self._push_to_assignee(
            event.conversation_id,
            event,
            {
                "type": event.type,
                "event_id": str(event.event_id),
                "conversation_id": str(event.conversation_id),
                "message_id": str(p.message_id),
                "status": p.status,
                "reason": p.reason,
            },
        )

    async def _push_to_assignee(self, conversation_id: uuid.UUID, event: Event, frame: dict[str, Any]) -> None:
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            assignee = await session.scalar(
                select(Conversation.timeline_assignee_id).where(Conversation.id == conversation_id)
            )
        if assignee is not None:
            await self.res.streams.push_once(self.res.keys.agent_stream(assignee), str(event.event_id), frame)
