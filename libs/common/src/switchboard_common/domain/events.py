"""Event schema v1: the one envelope every service publishes and consumes.

Each event type is a subclass of :class:`Event` with a literal ``type`` and a typed ``payload``;
:data:`EVENT_ADAPTER` parses any of them by their ``type``. The JSON Schema in ``docs/events.schema.json``
is exported from these models (``python -m switchboard_common.domain.events``) and a test keeps it in sync.

Fields marked ``personal`` in the schema carry personal data (message text, names, e-mails); those also
marked ``profile`` are a contact's own fields (name, e-mail, phone), which rectification corrects.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic.config import JsonDict

from switchboard_common.infra.bus import UnknownEventType

SCHEMA_VERSION: Literal[1] = 1

Personal: JsonDict = {"personal": True}
# A contact's own fields: sealed with the subject's profile key, which rectification rotates.
Profile: JsonDict = {"personal": True, "profile": True}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _has_nul(value: Any) -> bool:
    """Whether any string in ``value`` (nested dicts and lists) holds a NUL: one walk without copying."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from its strings; ``value`` itself when it has none (the usual
    case: every event is built through here, a routing decision's explanation holds dozens of strings, and
    copying them all was a third of a decision's CPU)."""
    if not _has_nul(value):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nul_characters(cls, data: Any) -> Any:
        # PostgreSQL cannot store NUL in text, and it means nothing in a message: an event that carried one
        # would fail every consumer that stores it, after its webhook was acknowledged.
        return _without_nul(data)


class Event(BaseModel):
    """The envelope. ``conversation_id`` is the Kafka partition key when present."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    topic_name: ClassVar[str] = "conversations"

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: Literal[1] = SCHEMA_VERSION
    tenant_id: uuid.UUID
    conversation_id: uuid.UUID | None = None
    occurred_at: datetime = Field(default_factory=utcnow)
    payload: Payload

    def partition_key(self) -> bytes:
        key = self.conversation_id or self.tenant_id
        return str(key).encode()

    def identity_partition(self) -> str | None:
        """For records keyed by a channel identity (inbound events): what the codec turns into the record key,
        a keyed pseudonym (``SubjectKeys.record_key``). None: ``partition_key`` is the record key."""
        return None


# --- payloads -----------------------------------------------------------------------------------------

Channel = Literal["web", "slack", "messenger", "api"]
SenderType = Literal["contact", "agent", "bot", "system"]
ConversationStatus = Literal["bot", "open", "pending", "snoozed", "resolved", "spam"]
PresenceStatus = Literal["online", "away", "offline"]


class Attachment(Payload):
    name: str = Field(json_schema_extra=Personal)
    content_type: str | None = None
    size: int | None = None
    url: str | None = Field(default=None, json_schema_extra=Personal)
    external_id: str | None = None


class ConversationCreatedPayload(Payload):
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: Channel
    status: ConversationStatus = "open"


class MessageCreatedPayload(Payload):
    message_id: uuid.UUID
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: Channel
    direction: Literal["inbound", "outbound"]
    sender_type: SenderType
    sender_id: uuid.UUID | None = None
    text: str | None = Field(default=None, json_schema_extra=Personal)
    attachments: list[Attachment] = Field(default_factory=list)
    external_id: str | None = None
    created_at: datetime
    # The conversation's status when a customer message joined it (ingest knows it): lets consumers skip
    # what is not theirs (the bot worker: anything not with the bot) without a database read. None when unknown.
    conversation_status: str | None = None


class NoteCreatedPayload(Payload):
    """A private note: for the account's agents only. A type of its own, so no channel sender (they take
    ``message.created``) can ever deliver it to a customer."""

    message_id: uuid.UUID
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: Channel
    author_id: uuid.UUID
    text: str | None = Field(default=None, json_schema_extra=Personal)
    mentions: list[uuid.UUID] = Field(default_factory=list)
    created_at: datetime


class MessageDeliveryPayload(Payload):
    message_id: uuid.UUID
    status: Literal["sent", "delivered", "read", "failed"]
    reason: str | None = None
    external_id: str | None = None


class ConversationAssignedPayload(Payload):
    agent_id: uuid.UUID
    previous_agent_id: uuid.UUID | None = None
    inbox_id: uuid.UUID
    strategy: str
    explanation: dict[str, Any] = Field(default_factory=dict)
    # Why: "routed", "claimed", "manual", "transfer", "offer_accepted" (see docs/routing.md).
    reason: str | None = None
    note: str | None = Field(default=None, json_schema_extra=Personal)


class ConversationOfferedPayload(Payload):
    agent_id: uuid.UUID
    inbox_id: uuid.UUID
    expires_at: datetime
    strategy: str
    explanation: dict[str, Any] = Field(default_factory=dict)


class ConversationUnassignedPayload(Payload):
    agent_id: uuid.UUID | None = None
    inbox_id: uuid.UUID
    # "manual", "no_reply", "agent_offline", "transfer_to_team", "offer_missed", "offer_rejected"
    reason: str
    team_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    note: str | None = Field(default=None, json_schema_extra=Personal)


class ConversationEscalatedPayload(Payload):
    inbox_id: uuid.UUID
    priority: int


class ConversationQueuedPayload(Payload):
    inbox_id: uuid.UUID
    reason: str
    explanation: dict[str, Any] = Field(default_factory=dict)


class ConversationStatusPayload(Payload):
    inbox_id: uuid.UUID
    status: ConversationStatus
    actor_id: uuid.UUID | None = None
    # Bot handoff parameters for routing, when a bot hands over: {"skills": [...], "preferred_skills": [...],
    # "language": "fr", "priority": 1, "team_id": "..."} (all optional).
    handoff: dict[str, Any] | None = None


class InboundMessagePayload(Payload):
    """A customer's message as the channel delivered it, before contact and conversation are resolved."""

    inbox_id: uuid.UUID
    channel: Channel
    external_contact_id: str = Field(json_schema_extra=Personal)
    contact_name: str | None = Field(default=None, json_schema_extra=Profile)
    contact_email: str | None = Field(default=None, json_schema_extra=Profile)
    external_message_id: str
    text: str | None = Field(default=None, json_schema_extra=Personal)
    attachments: list[Attachment] = Field(default_factory=list)
    sent_at: datetime
    # "edit" and "delete" refer to an earlier message by its external id.
    kind: Literal["message", "edit", "delete"] = "message"


class InboundReceiptPayload(Payload):
    """Delivery or read receipts for messages we sent (by their platform ids, or everything up to a time)."""

    inbox_id: uuid.UUID
    channel: Channel
    external_contact_id: str = Field(json_schema_extra=Personal)
    status: Literal["delivered", "read"]
    external_message_ids: list[str] = Field(default_factory=list)
    watermark: datetime | None = None


class InboundHandoverPayload(Payload):
    """A Messenger handover-protocol notification: thread control passed, taken, or requested by another app."""

    inbox_id: uuid.UUID
    channel: Channel
    external_contact_id: str = Field(json_schema_extra=Personal)
    action: Literal["pass", "take", "request"]
    # pass/take: the app that now holds the thread; request: the app asking its owner for it.
    app_id: str | None = None
    previous_app_id: str | None = None


class MessageUpdatedPayload(Payload):
    """A customer edited a message on their channel (``external_id``: the platform's id of it)."""

    message_id: uuid.UUID
    text: str | None = Field(default=None, json_schema_extra=Personal)
    external_id: str | None = None


class MessageDeletedPayload(Payload):
    """A customer deleted a message on their channel: the stored copy is soft-deleted (text removed)."""

    message_id: uuid.UUID
    external_id: str | None = None


class ContactUpdatedPayload(Payload):
    """A contact's fields were corrected (rectification, GDPR Art. 16): consumers holding copies replace them.
    Only the ``fields`` named were changed; the others are absent."""

    contact_id: uuid.UUID
    fields: list[Literal["name", "email", "phone"]]
    name: str | None = Field(default=None, json_schema_extra=Profile)
    email: str | None = Field(default=None, json_schema_extra=Profile)
    phone: str | None = Field(default=None, json_schema_extra=Profile)
    reason: Literal["rectification"] = "rectification"


class ConversationSlaBreachedPayload(Payload):
    """A service-level clock passed its due time unanswered (docs/reports.md). ``priority``: the queue priority
    the conversation should have at least now (the policy raises it), or null."""

    inbox_id: uuid.UUID
    policy_id: uuid.UUID
    target: Literal["first_response", "next_response", "resolution"]
    due_at: datetime
    cycle: int = 0
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    priority: int | None = None


class ConversationSlaUpdatedPayload(Payload):
    """The conversation's ``sla`` object changed (policy, due times, pause): consoles redraw its countdown."""

    inbox_id: uuid.UUID
    policy_id: uuid.UUID | None = None
    sla: dict[str, Any]


class ConversationLabelsChangedPayload(Payload):
    """The conversation's labels now (all of them): label SLA policies and the label reports follow them."""

    inbox_id: uuid.UUID
    labels: list[str]


class ConversationCsatRequestedPayload(Payload):
    """The customer was asked to rate the conversation (1-5) in their channel."""

    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: Channel
    question: str
    agent_id: uuid.UUID | None = None


class ConversationCsatAnsweredPayload(Payload):
    """The customer's rating (the last answer within a day wins: ``revision`` counts the answers)."""

    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: Channel
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, json_schema_extra=Personal)
    answered_at: datetime
    revision: int = 1
    agent_id: uuid.UUID | None = None


class InboundCsatPayload(Payload):
    """A rating a customer gave on their channel (a Messenger quick reply, a Slack button, the API channel)."""

    inbox_id: uuid.UUID
    channel: Channel
    external_contact_id: str = Field(json_schema_extra=Personal)
    conversation_id: uuid.UUID
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, json_schema_extra=Personal)
    answered_at: datetime


class AgentPresencePayload(Payload):
    agent_id: uuid.UUID
    status: PresenceStatus


# --- events -------------------------------------------------------------------------------------------


class ConversationCreated(Event):
    type: Literal["conversation.created"] = "conversation.created"
    conversation_id: uuid.UUID
    payload: ConversationCreatedPayload


class MessageCreated(Event):
    type: Literal["message.created"] = "message.created"
    conversation_id: uuid.UUID
    payload: MessageCreatedPayload


class NoteCreated(Event):
    type: Literal["note.created"] = "note.created"
    conversation_id: uuid.UUID
    payload: NoteCreatedPayload


class MessageDeliveryUpdated(Event):
    type: Literal["message.delivery_updated"] = "message.delivery_updated"
    conversation_id: uuid.UUID
    payload: MessageDeliveryPayload


class ConversationAssigned(Event):
    type: Literal["conversation.assigned"] = "conversation.assigned"
    conversation_id: uuid.UUID
    payload: ConversationAssignedPayload


class ConversationQueued(Event):
    type: Literal["conversation.queued"] = "conversation.queued"
    conversation_id: uuid.UUID
    payload: ConversationQueuedPayload


class ConversationOffered(Event):
    type: Literal["conversation.offered"] = "conversation.offered"
    conversation_id: uuid.UUID
    payload: ConversationOfferedPayload


class ConversationUnassigned(Event):
    type: Literal["conversation.unassigned"] = "conversation.unassigned"
    conversation_id: uuid.UUID
    payload: ConversationUnassignedPayload


class ConversationEscalated(Event):
    type: Literal["conversation.escalated"] = "conversation.escalated"
    conversation_id: uuid.UUID
    payload: ConversationEscalatedPayload


class ConversationStatusChanged(Event):
    type: Literal["conversation.status_changed"] = "conversation.status_changed"
    conversation_id: uuid.UUID
    payload: ConversationStatusPayload


class AgentPresenceChanged(Event):
    """Published on the agents topic, keyed by tenant so one account's presence changes stay in order (with a
    ``presence`` routing command beside it: switchboard_common.domain.conversations.commands)."""

    topic_name: ClassVar[str] = "agents"
    type: Literal["agent.presence_changed"] = "agent.presence_changed"
    payload: AgentPresencePayload


RoutingAction = Literal[
    "assign",
    "claim",
    "accept",
    "reject",
    "transfer",
    "unassign",
    "resolve",
    "pending",
    "snooze",
    "reopen",
    "spam",
    "not_spam",
    "refresh",
    "fire_timers",
    "presence",
]


class RoutingCommandPayload(Payload):
    """An instruction to the account's routing writer (the router replica owning the account's partition).

    ``reply_to`` names a Redis list the writer pushes the outcome to once it is committed; a command still
    unhandled at ``deadline`` is dropped (its caller has answered 503 meanwhile)."""

    command_id: uuid.UUID
    action: RoutingAction
    actor_id: uuid.UUID | None = None
    actor_admin: bool = False
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    note: str | None = Field(default=None, json_schema_extra=Personal)
    until: datetime | None = None
    status: PresenceStatus | None = None
    # The clock of a "fire_timers" command (tests and operators drive time).
    now: datetime | None = None
    reply_to: str | None = None
    deadline: datetime | None = None


class RoutingCommand(Event):
    """Keyed by tenant on the routing topic, like presence: one writer per account applies them in order."""

    topic_name: ClassVar[str] = "routing"
    type: Literal["routing.command"] = "routing.command"
    payload: RoutingCommandPayload

    def partition_key(self) -> bytes:
        return str(self.tenant_id).encode()


class InboundMessageReceived(Event):
    """Published by a webhook's ack path on the inbound topic, keyed by inbox and customer so one customer's
    messages stay in order; the connectors' ingest worker resolves contact and conversation."""

    topic_name: ClassVar[str] = "inbound"
    type: Literal["inbound.message_received"] = "inbound.message_received"
    payload: InboundMessagePayload

    def identity_partition(self) -> str | None:
        # Keyed per customer of the inbox (one customer's messages stay in order); pseudonymized by the codec.
        return f"{self.payload.inbox_id}:{self.payload.external_contact_id}"


class InboundReceiptReceived(Event):
    topic_name: ClassVar[str] = "inbound"
    type: Literal["inbound.receipt_received"] = "inbound.receipt_received"
    payload: InboundReceiptPayload

    def identity_partition(self) -> str | None:
        # Keyed per customer of the inbox (one customer's messages stay in order); pseudonymized by the codec.
        return f"{self.payload.inbox_id}:{self.payload.external_contact_id}"


class InboundHandoverReceived(Event):
    topic_name: ClassVar[str] = "inbound"
    type: Literal["inbound.handover_received"] = "inbound.handover_received"
    payload: InboundHandoverPayload

    def identity_partition(self) -> str | None:
        # With the customer's messages, in order; pseudonymized like them (the channel id is personal).
        return f"{self.payload.inbox_id}:{self.payload.external_contact_id}"


class MessageUpdated(Event):
    type: Literal["message.updated"] = "message.updated"
    conversation_id: uuid.UUID
    payload: MessageUpdatedPayload


class MessageDeleted(Event):
    type: Literal["message.deleted"] = "message.deleted"
    conversation_id: uuid.UUID
    payload: MessageDeletedPayload


class ContactUpdated(Event):
    """Keyed by tenant (a contact has no conversation of its own), on the conversations topic."""

    type: Literal["contact.updated"] = "contact.updated"
    payload: ContactUpdatedPayload


class ConversationSlaBreached(Event):
    type: Literal["conversation.sla_breached"] = "conversation.sla_breached"
    conversation_id: uuid.UUID
    payload: ConversationSlaBreachedPayload


class ConversationSlaUpdated(Event):
    type: Literal["conversation.sla_updated"] = "conversation.sla_updated"
    conversation_id: uuid.UUID
    payload: ConversationSlaUpdatedPayload


class ConversationLabelsChanged(Event):
    type: Literal["conversation.labels_changed"] = "conversation.labels_changed"
    conversation_id: uuid.UUID
    payload: ConversationLabelsChangedPayload


class ConversationCsatRequested(Event):
    type: Literal["conversation.csat_requested"] = "conversation.csat_requested"
    conversation_id: uuid.UUID
    payload: ConversationCsatRequestedPayload


class ConversationCsatAnswered(Event):
    type: Literal["conversation.csat_answered"] = "conversation.csat_answered"
    conversation_id: uuid.UUID
    payload: ConversationCsatAnsweredPayload


class InboundCsatReceived(Event):
    topic_name: ClassVar[str] = "inbound"
    type: Literal["inbound.csat_received"] = "inbound.csat_received"
    payload: InboundCsatPayload

    def identity_partition(self) -> str | None:
        # With the customer's messages, in order; pseudonymized like them (the channel id is personal).
        return f"{self.payload.inbox_id}:{self.payload.external_contact_id}"


EVENT_TYPES: tuple[type[Event], ...] = (
    ConversationCreated,
    MessageCreated,
    MessageDeliveryUpdated,
    ConversationAssigned,
    ConversationQueued,
    ConversationStatusChanged,
    AgentPresenceChanged,
    InboundMessageReceived,
    InboundReceiptReceived,
    ConversationOffered,
    ConversationUnassigned,
    ConversationEscalated,
    MessageUpdated,
    MessageDeleted,
    InboundHandoverReceived,
    ContactUpdated,
    NoteCreated,
    RoutingCommand,
    ConversationSlaBreached,
    ConversationSlaUpdated,
    ConversationLabelsChanged,
    ConversationCsatRequested,
    ConversationCsatAnswered,
    InboundCsatReceived,
)
EVENT_CLASSES: dict[str, type[Event]] = {cls.model_fields["type"].default: cls for cls in EVENT_TYPES}

AnyEvent = Annotated[
    ConversationCreated
    | MessageCreated
    | MessageDeliveryUpdated
    | ConversationAssigned
    | ConversationQueued
    | ConversationStatusChanged
    | AgentPresenceChanged
    | InboundMessageReceived
    | InboundReceiptReceived
    | ConversationOffered
    | ConversationUnassigned
    | ConversationEscalated
    | MessageUpdated
    | MessageDeleted
    | InboundHandoverReceived
    | ContactUpdated
    | NoteCreated
    | RoutingCommand
    | ConversationSlaBreached
    | ConversationSlaUpdated
    | ConversationLabelsChanged
    | ConversationCsatRequested
    | ConversationCsatAnswered
    | InboundCsatReceived,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)


def parse_event(raw: bytes | str) -> Event:
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("type") not in EVENT_CLASSES:
        raise UnknownEventType(str(data.get("type")) if isinstance(data, dict) else "?")
    return EVENT_ADAPTER.validate_python(data)


def serialize_event(event: Event) -> bytes:
    return event.model_dump_json().encode()


def json_schema() -> dict[str, Any]:
    schema = EVENT_ADAPTER.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"Switchboard event v{SCHEMA_VERSION}"
    return schema


if __name__ == "__main__":  # pragma: no cover - exports the checked-in schema
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
