"""Satisfaction surveys: per-inbox settings, the question in the inbox's language, and recording an answer.

An inbox's ``settings["csat"]``: ``{"enabled": false, "question": null, "language": "en", "delay_minutes": 0}``
(``question`` null: the built-in question of ``language``). A survey is sent ``delay_minutes`` after a
conversation is resolved; the customer answers 1-5 with an optional comment, as often as they like within a day
of the question (the last answer wins); an answer repeated unchanged changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_common.domain.events import ConversationCsatAnswered, ConversationCsatAnsweredPayload
from switchboard_common.infra.errors import AppError

CSAT_NAMESPACE = uuid.UUID("1e0b8a4c-77c2-4a55-9d6b-4fd3b1c0a2e9")
LANGUAGES = ("en", "el", "hu", "sq")
DEFAULTS: dict[str, Any] = {"enabled": False, "question": None, "language": "en", "delay_minutes": 0}
QUESTIONS = {
    "en": "How would you rate our conversation? (1 = poor, 5 = excellent)",
    "el": "Πώς θα βαθμολογούσατε τη συνομιλία μας; (1 = κακή, 5 = εξαιρετική)",
    "hu": "Hogyan értékelné a beszélgetésünket? (1 = rossz, 5 = kiváló)",
    "sq": "Si do ta vlerësonit bisedën tonë? (1 = e dobët, 5 = e shkëlqyer)",
}
# The customer may change their answer within this long after the question.
ANSWER_WINDOW = timedelta(days=1)
RATINGS = (1, 2, 3, 4, 5)
CHOICE_PREFIX = "CSAT"


def settings_of(inbox_settings: dict[str, Any] | None) -> dict[str, Any]:
    stored = (inbox_settings or {}).get("csat") or {}
    return {**DEFAULTS, **stored}


def question_of(config: dict[str, Any]) -> str:
    return str(config.get("question") or QUESTIONS.get(str(config.get("language")), QUESTIONS["en"]))


def choice(conversation_id: uuid.UUID, rating: int) -> str:
    """The payload a channel button or quick reply carries back (no personal data)."""
    return f"{CHOICE_PREFIX}:{conversation_id}:{rating}"


def parse_choice(value: str | None) -> tuple[uuid.UUID, int] | None:
    parts = (value or "").split(":")
    if len(parts) != 3 or parts[0] != CHOICE_PREFIX or parts[2] not in {str(r) for r in RATINGS}:
        return None
    try:
        return uuid.UUID(parts[1]), int(parts[2])
    except ValueError:
        return None


def record_answer(
    survey: CsatSurvey | None,
    *,
    contact_id: uuid.UUID,
    rating: int,
    comment: str | None,
    at: datetime,
) -> ConversationCsatAnswered | None:
    """Stores the answer on the survey row (the caller holds it ``FOR UPDATE``) and returns the event to stage,
    or None when nothing changed. Refuses (409) a conversation that was not asked or whose day has passed."""
    if survey is None or survey.status not in ("sent", "answered") or survey.sent_at is None:
        raise AppError(409, "csat_not_requested", "this conversation has no satisfaction survey to answer")
    if at > survey.sent_at + ANSWER_WINDOW:
        raise AppError(409, "csat_closed", "the survey can be answered for a day after it was sent")
    comment = (comment or "").strip() or None
    if survey.rating == rating and survey.comment == comment:
        return None
    survey.rating = rating
    survey.comment = comment
    survey.answered_at = at
    survey.status = "answered"
    survey.revision = (survey.revision or 0) + 1
    return ConversationCsatAnswered(
        event_id=uuid.uuid5(CSAT_NAMESPACE, f"{survey.conversation_id}:answer:{survey.revision}"),
        tenant_id=survey.account_id,
        conversation_id=survey.conversation_id,
        occurred_at=at,
        payload=ConversationCsatAnsweredPayload(
            inbox_id=survey.inbox_id,
            contact_id=contact_id,
            channel=survey.channel,
            rating=rating,
            comment=comment,
            answered_at=at,
            revision=survey.revision,
            agent_id=survey.agent_id,
        ),
    )
