"""HTTP to URLs that users gave us (API inbox callbacks, account webhooks), safe against SSRF.

The host is resolved once, every address is checked (no private, loopback, link-local, multicast or
reserved ranges unless ``OUTBOUND_ALLOW_PRIVATE=true``), and the connection goes to the checked address
with the original Host header and TLS server name, so a DNS answer that changes between check and connect
(rebinding) cannot redirect us. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx


class UnsafeUrl(ValueError):
    """The URL may not be called (scheme, host or address not allowed)."""


def _address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return not ip.is_multicast and not ip.is_unspecified
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def validate_url_syntax(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("only http and https URLs with a host are allowed")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in URLs are not allowed")


async def resolve_checked(url: str, *, allow_private: bool) -> tuple[str, str]:
    """Returns (host, an allowed address to connect to) or raises UnsafeUrl."""
    validate_url_syntax(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        # An address literal needs no lookup (and no thread from the loop's executor).
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnsafeUrl("host does not resolve") from exc
        addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_address_allowed(a, allow_private) for a in addresses):
        raise UnsafeUrl("host resolves to an address that may not be called")
    return host, addresses[0]


class OutboundHttp:
    def __init__(self, *, allow_private: bool, timeout: float = 10.0) -> None:
        self.allow_private = allow_private
        # httpx's timeout bounds each phase; ``timeout`` also bounds the whole call, DNS included, so a
        # receiver trickling its answer cannot hold a delivery longer than that.
        self.timeout = timeout
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(self, url: str) -> None:
        await resolve_checked(url, allow_private=self.allow_private)

    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """POSTs to the checked address; the answer's body is never read (only its status matters).

        Raises UnsafeUrl, httpx.TimeoutException (also when the whole call outlasts ``timeout``) or another
        httpx.HTTPError.
        """
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post_pinned(url, content, headers)
        except TimeoutError:
            raise httpx.TimeoutException("the call took longer than its deadline") from None

    async def _post_pinned(self, url: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        host, address = await resolve_checked(url, allow_private=self.allow_private)
        parts = urlsplit(url)
        netloc_ip = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc_ip += f":{parts.port}"
        pinned = urlunsplit((parts.scheme, netloc_ip, parts.path or "/", parts.query, ""))
        request_headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
        request = self._client.build_request(
            "POST", pinned, content=content, headers=request_headers, extensions={"sni_hostname": host}
        )
        response = await self._client.send(request, stream=True)
        await response.aclose()  # a huge or endless body is never buffered
        return response
