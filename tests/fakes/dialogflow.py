"""A local stand-in for Google's OAuth token endpoint and the Dialogflow ES v2 ``detectIntent`` REST method.

Tokens: form-encoded ``grant_type=refresh_token``; a refresh token listed in ``revoked`` answers 400
``{"error": "invalid_grant"}``. detectIntent: a Bearer token we issued is required (401 otherwise); the
customer's text selects a scripted ``queryResult`` from ``intents`` (else a fallback at low confidence);
sessions listed in ``failing_sessions`` answer 503."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from switchboard_devstack import free_port


def query_result(
    text: str, intent: str, reply: str | None, confidence: float = 0.9, *, fallback: bool = False, **extra: Any
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "queryText": text,
        "parameters": {},
        "allRequiredParamsPresent": True,
        "fulfillmentText": reply or "",
        "fulfillmentMessages": [{"text": {"text": [reply]}}] if reply else [],
        "intent": {"name": f"projects/p/agent/intents/{intent}", "displayName": intent, "isFallback": fallback},
        "intentDetectionConfidence": confidence,
        "languageCode": "en",
    }
    result.update(extra)
    return result


@dataclass
class FakeGoogle:
    port: int = field(default_factory=free_port)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer text -> queryResult
    revoked: set[str] = field(default_factory=set)
    failing_sessions: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    detect_requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (project, session, body)
    issued: set[str] = field(default_factory=set)
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "refresh_token" or not form.get("client_id"):
            return web.json_response({"error": "invalid_request"}, status=400)
        if form.get("refresh_token") in self.revoked:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, status=400
            )
        token = f"ya29.fake-{next(self._n)}"
        self.issued.add(token)
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer", "scope": "x"})

    async def _detect(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.issued:
            return web.json_response({"error": {"code": 401, "status": "UNAUTHENTICATED"}}, status=401)
        project, rest = request.match_info["project"], request.match_info["rest"]
        session, _, method = rest.partition(":")
        if method != "detectIntent":
            return web.json_response({"error": {"code": 404, "status": "NOT_FOUND"}}, status=404)
        body = await request.json()
        self.detect_requests.append((project, session, body))
        if session in self.failing_sessions:
            return web.json_response({"error": {"code": 503, "status": "UNAVAILABLE"}}, status=503)
        text = body["queryInput"]["text"]["text"]
        result = self.intents.get(text) or query_result(
            text, "Default Fallback Intent", "Sorry, could you say that again?", 0.3, fallback=True
        )
        return web.json_response({"responseId": f"r-{next(self._n)}", "queryResult": result})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_post("/v2/projects/{project}/agent/sessions/{rest}", self._detect)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
