"""Dialogflow ES v2 over REST: access tokens from a refresh token (cached, encrypted, in Redis until shortly
before expiry), ``detectIntent``, and :func:`interpret`, which reads a response (pure; never raises)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.payload_fields import object_field

# Renew this long before Google's expiry, so a token never expires mid-call.
TOKEN_MARGIN_SECONDS = 120


class BotFailure(Exception):
    """The bot cannot answer (revoked credentials, provider down, timeout): the conversation goes to humans."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent  # the credentials themselves are bad: mark the bot broken


@dataclass(frozen=True)
class BotTurn:
    replies: list[str] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    fallback: bool = False
    handoff: bool = False
    handoff_params: dict[str, Any] = field(default_factory=dict)


def _texts(messages: Any) -> list[str]:
    found: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        text = message.get("text") if isinstance(message, dict) else None
        lines = text.get("text") if isinstance(text, dict) else None
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, str) and line.strip():
                found.append(line)
    return found


def _handoff_in(messages: Any, payload_key: str) -> dict[str, Any] | None:
    """CX ``liveAgentHandoff`` (its metadata), or a custom payload ``{payload_key: true, ...}``."""
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        live = message.get("liveAgentHandoff")
        if isinstance(live, dict):
            metadata = live.get("metadata")
            return dict(metadata) if isinstance(metadata, dict) else {}
        payload = message.get("payload")
        if isinstance(payload, dict) and payload.get(payload_key) is True:
            return {k: v for k, v in payload.items() if k != payload_key}
    return None


def interpret(response: Any, *, handoff_intents: list[str], payload_key: str = "handoff") -> BotTurn:
    """What a ``detectIntent`` response says: the replies, the intent and confidence, and whether to hand off."""
    result = response.get("queryResult") if isinstance(response, dict) else None
    if not isinstance(result, dict):
        return BotTurn()
    messages = result.get("fulfillmentMessages") or result.get("responseMessages")
    replies = _texts(messages)
    text = result.get("fulfillmentText")
    if not replies and isinstance(text, str) and text.strip():
        replies = [text]
    intent = object_field(result, "intent")
    name = intent.get("displayName") if isinstance(intent.get("displayName"), str) else None
    raw_confidence = result.get("intentDetectionConfidence")
    confidence = (
        float(raw_confidence)
        if isinstance(raw_confidence, int | float) and not isinstance(raw_confidence, bool)
        else None
    )
    params = _handoff_in(messages, payload_key)
    if params is None and isinstance(result.get("webhookPayload"), dict):
        params = _handoff_in([{"payload": result["webhookPayload"]}], payload_key)
    handoff = params is not None or (name is not None and name in handoff_intents)
    return BotTurn(
        replies=replies[:10],
        intent=name,
        confidence=confidence,
        fallback=intent.get("isFallback") is True,
        handoff=handoff,
        handoff_params=params or {},
    )


class DialogflowClient:
    def __init__(self, resources: Resources, *, api_url: str, token_url: str, timeout: float) -> None:
        self.res = resources
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def start(self) -> None:
        """Worker protocol: ready on construction; stopping closes the connections."""

    async def stop(self) -> None:
        await self._client.aclose()

    @staticmethod
    def _credential(refresh_token: str) -> str:
        # Stored beside the cached token: new credentials never reuse an old access token.
        return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]

    def _aad(self, inbox_id: uuid.UUID) -> bytes:
        return f"bot-token:{inbox_id}".encode()

    async def access_token(self, inbox_id: uuid.UUID, credentials: dict[str, str]) -> str:
        key = self.res.keys.dialogflow_token(inbox_id)
        credential = self._credential(credentials["refresh_token"])
        cached = await self.res.redis.get(key)
        if cached is not None:
            try:
                value = self.res.keyring.decrypt_json(base64.b64decode(cached), self._aad(inbox_id))
                if value.get("credential") == credential:
                    return str(value["access_token"])
            except (ValueError, binascii.Error, KeyError):
                await self.res.redis.delete(key)
        try:
            response = await self._client.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": credentials["refresh_token"],
                    "client_id": credentials["client_id"],
                    "client_secret": credentials["client_secret"],
                },
            )
        except httpx.HTTPError as exc:
            raise BotFailure("token_unavailable") from exc
        data = _json(response)
        if response.status_code in (400, 401) and data.get("error") in ("invalid_grant", "invalid_client"):
            raise BotFailure(str(data["error"]), permanent=True)
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not response.is_success or not isinstance(token, str):
            raise BotFailure(f"token_http_{response.status_code}")
        ttl = int(expires_in) - TOKEN_MARGIN_SECONDS if isinstance(expires_in, int | float) else 0
        if ttl > 0:
            blob = self.res.keyring.encrypt_json(
                {"access_token": token, "at": time.time(), "credential": credential}, self._aad(inbox_id)
            )
            await self.res.redis.set(key, base64.b64encode(blob).decode(), ex=ttl)
        return token

    async def forget_token(self, inbox_id: uuid.UUID) -> None:
        await self.res.redis.delete(self.res.keys.dialogflow_token(inbox_id))

    async def detect_intent(
        self,
        inbox_id: uuid.UUID,
        credentials: dict[str, str],
        *,
        project_id: str,
        session_id: str,
        text: str,
        language_code: str,
    ) -> dict[str, Any]:
        url = f"{self.api_url}/v2/projects/{project_id}/agent/sessions/{session_id}:detectIntent"
        body = {"queryInput": {"text": {"text": text[:256], "languageCode": language_code}}}
        for attempt in range(2):
            token = await self.access_token(inbox_id, credentials)
            try:
                response = await self._client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            except httpx.TimeoutException as exc:
                raise BotFailure("timeout") from exc
            except httpx.HTTPError as exc:
                raise BotFailure("unreachable") from exc
            if response.status_code == 401 and attempt == 0:
                # Expired or revoked early: drop the cached token and try once with a fresh one.
                await self.forget_token(inbox_id)
                continue
            if not response.is_success:
                raise BotFailure(f"http_{response.status_code}", permanent=response.status_code == 403)
            return _json(response)
        raise BotFailure("unauthorized", permanent=True)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
