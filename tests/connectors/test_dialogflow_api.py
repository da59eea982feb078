"""Reading Dialogflow responses and fulfillment requests: arbitrary JSON never crashes the readers, and
well-formed ES and CX payloads map to the right replies, handoff decisions and response shapes."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from switchboard_connectors.channels.dialogflow.client import interpret
from switchboard_connectors.channels.dialogflow.webhook import authorized, parse_request, response_body

from tests.fakes.dialogflow import query_result

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_arbitrary_json_never_crashes_the_readers(value: Any) -> None:
    interpret(value, handoff_intents=["human"])
    interpret({"queryResult": value}, handoff_intents=["human"])
    interpret({"queryResult": {"fulfillmentMessages": value, "intent": value}}, handoff_intents=[])
    parse_request(value)
    parse_request({"session": value, "queryResult": value})
    parse_request({"sessionInfo": value, "fulfillmentInfo": value})


@given(
    st.text(min_size=1, max_size=40).filter(str.strip),
    st.lists(st.text(min_size=1, max_size=100).filter(str.strip), min_size=1, max_size=3),
    st.floats(min_value=0, max_value=1),
)
def test_es_responses_map_to_replies_and_handoff(intent: str, replies: list[str], confidence: float) -> None:
    result = query_result("hi", intent, None, confidence)
    result["fulfillmentMessages"] = [{"text": {"text": [r]}} for r in replies]
    turn = interpret({"responseId": "r", "queryResult": result}, handoff_intents=[intent])
    assert turn.replies == replies and turn.intent == intent and turn.confidence == confidence
    assert turn.handoff
    assert not interpret({"queryResult": result}, handoff_intents=[]).handoff


def test_live_agent_handoff_and_custom_payload() -> None:
    cx_like = {"queryResult": {"responseMessages": [{"liveAgentHandoff": {"metadata": {"skills": ["billing"]}}}]}}
    turn = interpret(cx_like, handoff_intents=[])
    assert turn.handoff and turn.handoff_params == {"skills": ["billing"]}
    es_payload = query_result("x", "talk", "One moment", 0.9)
    es_payload["fulfillmentMessages"].append({"payload": {"handoff": True, "language": "fr"}})
    turn = interpret({"queryResult": es_payload}, handoff_intents=[])
    assert turn.handoff and turn.handoff_params == {"language": "fr"} and turn.replies == ["One moment"]
    es_payload["fulfillmentMessages"][-1] = {"payload": {"handoff": "yes"}}
    assert not interpret({"queryResult": es_payload}, handoff_intents=[]).handoff


def test_fulfillment_requests_and_response_shapes() -> None:
    conversation = str(uuid.uuid4())
    es = parse_request(
        {
            "responseId": "r1",
            "session": f"projects/acme-bot/agent/sessions/{conversation}",
            "queryResult": {"action": "handoff", "intent": {"displayName": "human"}},
            "originalDetectIntentRequest": {"source": "switchboard", "payload": {}},
        }
    )
    assert es is not None and (es.cx, es.project_id, es.session_id, es.tag, es.intent) == (
        False,
        "acme-bot",
        conversation,
        "handoff",
        "human",
    )
    assert response_body(es, None) == {}
    assert set(response_body(es, "hello", {"a": 1})) <= {
        "fulfillmentText",
        "fulfillmentMessages",
        "source",
        "payload",
        "outputContexts",
        "followupEventInput",
        "sessionEntityTypes",
    }
    cx = parse_request(
        {
            "detectIntentResponseId": "d1",
            "sessionInfo": {"session": f"projects/acme-bot/locations/global/agents/a1/sessions/{conversation}"},
            "fulfillmentInfo": {"tag": "conversation_status"},
            "intentInfo": {"displayName": "status"},
            "languageCode": "en",
        }
    )
    assert cx is not None and cx.cx and cx.session_id == conversation and cx.tag == "conversation_status"
    assert response_body(cx, "hi") == {"fulfillmentResponse": {"messages": [{"text": {"text": ["hi"]}}]}}
    assert parse_request({"session": "not/a/session"}) is None


def test_basic_auth_check() -> None:
    def header(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    assert authorized(header("df", "s3cret"), "df", "s3cret")
    assert not authorized(header("df", "wrong"), "df", "s3cret")
    assert not authorized(header("other", "s3cret"), "df", "s3cret")
    assert not authorized("Basic !!!", "df", "s3cret")
    assert not authorized("Bearer x", "df", "s3cret")
    assert not authorized(None, "df", "s3cret")
