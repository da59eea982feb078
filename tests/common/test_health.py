from __future__ import annotations

import asyncio

import httpx
from switchboard_common.infra.http import check_readiness

from tests.helpers.live import LiveServer


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    for _ in range(150):  # the consumer groups join within seconds of start
        if ready.status_code == 200:
            break
        assert ready.json()["dependencies"]["consumers"] == "failing", ready.text
        await asyncio.sleep(0.2)
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["dependencies"] == {"postgres": "ok", "redis": "ok", "kafka": "ok", "consumers": "ok"}


async def test_readiness_names_the_failing_dependency() -> None:
    async def ok() -> None:
        return None

    async def down() -> None:
        raise ConnectionRefusedError

    response = await check_readiness({"postgres": ok, "redis": down, "kafka": ok})
    assert response.status_code == 503
    body = response.body.decode()
    assert '"failing":["redis"]' in body.replace(" ", "")


async def test_openapi_and_docs(client: httpx.AsyncClient, server: LiveServer) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/widget/messages" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_errors_are_json(client: httpx.AsyncClient) -> None:
    malformed = await client.post("/api/v1/signup", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    invalid = await client.post("/api/v1/signup", json={"email": "nope"})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "validation_error"
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    too_big = await client.post(
        "/api/v1/signup", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"


async def test_with_a_metrics_port_the_app_port_serves_no_metrics() -> None:
    """Production sets METRICS_PORT: /metrics is then on that port alone, which serves nothing else."""
    from switchboard_common.infra.http import metrics_app
    from switchboard_gateway.app import create_app
    from switchboard_gateway.settings import GatewaySettings

    app = create_app(GatewaySettings(metrics_port=9090), run_workers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as public:
        assert (await public.get("/metrics")).status_code == 404
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=metrics_app), base_url="http://m") as scrape:
        metrics = await scrape.get("/metrics")
        assert metrics.status_code == 200 and "switchboard_http_requests_total" in metrics.text
        assert (await scrape.get("/docs")).status_code == 404
        assert (await scrape.get("/api/v1/me")).status_code == 404
