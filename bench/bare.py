"""The baseline: a bare FastAPI endpoint that parses a JSON body, served like our services (uvicorn, 1 worker)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/bare")
async def bare(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"ok": True, "size": len(body) if isinstance(body, dict) else 0}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
