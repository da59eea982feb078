# ruff: noqa: RUF001 - Greek, Hungarian and Albanian text is the point of these tests
"""The agents' workspace data about a person under privacy requests: the search index forgets an erased
subject (searched through ``GET /api/v1/search`` before and after the privacy service's erasure), access
exports carry contact notes, custom attributes and private notes, and rectification corrects attributes and
notes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Tenant, create_web_inbox, eventually, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.privacy import wait_status


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(tmp_path_factory.mktemp("workspace-privacy")),
        SUBJECT_KEY_CACHE_SECONDS="0",
        PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
        PRIVACY_RETRY_BASE_SECONDS="0.1",
        PRIVACY_EXPORT_LINK_SECONDS="120",
    ) as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


async def run_request(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    created = await client.post("/api/v1/privacy/requests", json=body, headers=tenant.headers)
    assert created.status_code == 202, created.text
    request_id = created.json()["id"]
    approved = await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
    assert approved.status_code == 200, approved.text
    return await wait_status(client, tenant, request_id, "completed")


async def customer_with_history(client: httpx.AsyncClient, tenant: Tenant, email: str) -> dict[str, Any]:
    """A visitor who wrote in Greek, with a private note, a contact note and attributes on file."""
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"], name="Ξένια Παπαδάκη", email=email)
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "Η παραγγελία μου ZX-9912 δεν έφτασε, θέλω επιστροφή χρημάτων"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert sent.status_code == 202, sent.text
    conversation_id = sent.json()["conversation_id"]

    async def stored() -> bool:
        found = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.headers)
        return found.status_code == 200 and len(found.json()) == 1

    await eventually(stored)
    note = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Εγκρίθηκε από τον προϊστάμενο", "private": True},
        headers=tenant.headers,
    )
    assert note.status_code == 201, note.text
    contact_id = visitor["contact_id"]
    patched = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"custom_attributes": {"plan": "gold", "order_number": "ZX-9912"}},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    contact_note = await client.post(
        f"/api/v1/contacts/{contact_id}/notes", json={"text": "Prefers calls after 18:00"}, headers=tenant.headers
    )
    assert contact_note.status_code == 201, contact_note.text
    return {**visitor, "conversation_id": conversation_id, "contact_note_id": contact_note.json()["id"]}


async def search(client: httpx.AsyncClient, tenant: Tenant, q: str) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": q}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_after_an_erasure_the_subjects_words_are_not_found(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    subject = await customer_with_history(client, tenant, "xenia.erase@example.org")
    bystander = await customer_with_history(client, tenant, "other.person@example.org")
    # Found before: her message (the Greek dictionary: "επιστροφής" and "επιστροφή" share a stem), her contact
    # by e-mail and attribute value.
    before = await search(client, tenant, "επιστροφής")
    assert subject["conversation_id"] in {h["conversation_id"] for h in before["messages"]["items"]}
    assert "<mark>" in before["messages"]["items"][0]["highlight"]
    assert subject["contact_id"] in {
        c["contact_id"] for c in (await search(client, tenant, "ZX-9912"))["contacts"]["items"]
    }
    assert (await search(client, tenant, "xenia.erase@example.org"))["contacts"]["total"] == 1

    await run_request(client, tenant, {"type": "erasure", "subject": {"email": "xenia.erase@example.org"}})

    after = await search(client, tenant, "επιστροφής")
    assert subject["conversation_id"] not in {h["conversation_id"] for h in after["messages"]["items"]}
    assert bystander["conversation_id"] in {h["conversation_id"] for h in after["messages"]["items"]}
    assert (await search(client, tenant, "xenia.erase@example.org"))["contacts"]["total"] == 0
    assert (await search(client, tenant, "προϊστάμενο"))["messages"]["total"] == 1  # the bystander's note only
    gone = await client.get(f"/api/v1/contacts/{subject['contact_id']}/notes", headers=tenant.headers)
    assert gone.status_code == 404


async def test_access_export_and_rectification_cover_notes_and_attributes(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    subject = await customer_with_history(client, tenant, "xenia.export@example.org")
    done = await run_request(client, tenant, {"type": "access", "subject": {"email": "xenia.export@example.org"}})
    archive = await client.get(done["report"]["download"]["url"])
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        tables = json.loads(zipped.read("data.json"))["tables"]
    assert tables["contacts"][0]["custom_attributes"] == {"plan": "gold", "order_number": "ZX-9912"}
    assert [n["text"] for n in tables["contact_notes"]] == ["Prefers calls after 18:00"]
    private = [m["text"] for m in tables["messages"] if m["private"]]
    assert private == ["Εγκρίθηκε από τον προϊστάμενο"]
    assert all("search_vector" not in row for rows in tables.values() for row in rows)

    rectified = await run_request(
        client,
        tenant,
        {
            "type": "rectification",
            "subject": {"contact_id": subject["contact_id"]},
            "changes": {
                "custom_attributes": {"plan": None, "order_number": "ZX-9913"},
                "contact_notes": {subject["contact_note_id"]: "Prefers e-mail"},
            },
        },
    )
    assert rectified["progress"]["postgres"]["counts"] == {"contact_attributes": 1, "contact_notes": 1}
    contact = (await client.get(f"/api/v1/contacts/{subject['contact_id']}", headers=tenant.headers)).json()
    assert contact["custom_attributes"] == {"order_number": "ZX-9913"}
    notes = (await client.get(f"/api/v1/contacts/{subject['contact_id']}/notes", headers=tenant.headers)).json()
    assert [n["text"] for n in notes] == ["Prefers e-mail"]
    assert (await search(client, tenant, "ZX-9913"))["contacts"]["total"] == 1
