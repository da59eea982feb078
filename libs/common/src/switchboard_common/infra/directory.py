"""The global directory's client: what must be found before an account's region is known, mapped to that
region, and nothing else (docs/operations.md, "Regions").

Entries are (kind, key) -> region, with kinds ``account`` (account id), ``inbox`` (an API inbox's id),
``slack_team``, ``messenger_page`` and ``email`` (a keyed pseudonym of a login e-mail: the directory never
sees an address). A region *claims* an entry when it creates the thing (a claim held by another region is a
:class:`TakenElsewhere`: an e-mail, a Slack workspace or a page lives in one region only), *releases* it when the
thing goes, and every region *looks up* entries to forward what reached it by mistake.

Single-region installations (no ``REGIONS``, or one) have no directory: every call is a no-op that answers
"here", and nothing leaves the process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Literal

import httpx
import structlog

from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.settings import CommonSettings

log = structlog.get_logger(__name__)

EntryKind = Literal["account", "inbox", "slack_team", "messenger_page", "email"]
KINDS: tuple[str, ...] = ("account", "inbox", "slack_team", "messenger_page", "email")
# Region of a key never changes once claimed (an account does not move): positive answers are kept long;
# a miss only briefly, so an entry claimed a moment ago is found soon.
FOUND_SECONDS = 600.0
MISSING_SECONDS = 2.0
_MAX_CACHED = 100_000


class DirectoryUnavailable(Exception):
    """The directory did not answer; callers answer 503 (nothing half-done is kept)."""


class TakenElsewhere(Exception):
    """Another region holds the entry."""

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self.region = region


def email_key(pseudonyms: Pseudonyms, email: str) -> str:
    """The login e-mail as the directory stores it: a keyed pseudonym of the normalized address. Every region
    derives the same one (they share ``PSEUDONYM_KEY``, or ``SECRET_KEY``)."""
    return pseudonyms.digest("directory-login-email", email.strip().lower())


class Directory:
    def __init__(self, settings: CommonSettings, *, client: httpx.AsyncClient | None = None) -> None:
        self.region = settings.region
        self.enabled = settings.multi_region
        self.url = settings.directory_url.rstrip("/")
        if self.enabled and not self.url:
            raise ValueError("DIRECTORY_URL must be set when REGIONS names more than one region")
        self._headers = {"authorization": f"Bearer {directory_token_of(settings)}"}
        self.pseudonyms = Pseudonyms.from_settings(settings)
        self._client = client
        self._owns_client = client is None
        self._cache: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        return self._client

    async def close(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None

    def email_key(self, email: str) -> str:
        return email_key(self.pseudonyms, email)

    def _entry_url(self, kind: str, key: str) -> str:
        return f"{self.url}/directory/v1/entries/{kind}/{key}"

    def _remember(self, kind: str, key: str, region: str | None) -> None:
        ttl = FOUND_SECONDS if region else MISSING_SECONDS
        self._cache[(kind, key)] = (time.monotonic() + ttl, region)
        self._cache.move_to_end((kind, key))
        while len(self._cache) > _MAX_CACHED:
            self._cache.popitem(last=False)

    async def lookup(self, kind: EntryKind, key: str) -> str | None:
        """The region holding the entry, or None (unknown: the caller's default applies)."""
        if not self.enabled:
            return None
        hit = self._cache.get((kind, key))
        if hit is not None and hit[0] >= time.monotonic():
            return hit[1]
        try:
            response = await self._http().get(self._entry_url(kind, key), headers=self._headers)
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(type(exc).__name__) from None
        if response.status_code == 404:
            self._remember(kind, key, None)
            return None
        if response.status_code != 200:
            raise DirectoryUnavailable(f"status {response.status_code}")
        region = str(response.json()["region"])
        self._remember(kind, key, region)
        return region

    async def claim(self, kind: EntryKind, key: str) -> bool:
        """Records that this region holds the entry (True: new, False: it already did); :class:`TakenElsewhere`
        when another region does."""
        if not self.enabled:
            return False
        try:
            response = await self._http().put(
                self._entry_url(kind, key), json={"region": self.region}, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(type(exc).__name__) from None
        if response.status_code == 409:
            region = str(((response.json().get("error") or {}).get("details") or {}).get("region") or "")
            self._remember(kind, key, region or None)
            raise TakenElsewhere(region)
        if response.status_code not in (200, 201):
            raise DirectoryUnavailable(f"status {response.status_code}")
        self._remember(kind, key, self.region)
        return response.status_code == 201

    async def release(self, kind: EntryKind, key: str) -> None:
        """Forgets the entry if this region holds it (the account, inbox, page or login is gone)."""
        if not self.enabled:
            return
        self._cache.pop((kind, key), None)
        try:
            response = await self._http().delete(
                self._entry_url(kind, key), params={"region": self.region}, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(type(exc).__name__) from None
        if response.status_code not in (204, 404, 409):
            raise DirectoryUnavailable(f"status {response.status_code}")

    async def release_quietly(self, kind: EntryKind, key: str) -> None:
        """:meth:`release` where nothing can be undone any more (after a commit): a failure is logged; the
        stale entry only makes lookups of a thing that no longer exists point here."""
        try:
            await self.release(kind, key)
        except DirectoryUnavailable as exc:
            log.warning("directory_release_failed", error=str(exc), event_type=kind)


def directory_token_of(settings: CommonSettings) -> str:
    """``DIRECTORY_TOKEN``, or in development one derived from ``SECRET_KEY`` (production refuses that:
    settings require the token whenever regions are on)."""
    if settings.directory_token is not None:
        return settings.directory_token.get_secret_value()
    return Pseudonyms.from_settings(settings).digest("directory-token", "development")
