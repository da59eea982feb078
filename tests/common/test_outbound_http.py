"""The SSRF guard refuses private, loopback and link-local targets unless the deployment allows them."""

from __future__ import annotations

import pytest
from switchboard_common.infra.outbound_http import UnsafeUrl, resolve_checked, validate_url_syntax


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
    ],
)
async def test_private_targets_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await resolve_checked(url, allow_private=False)


async def test_private_targets_allowed_when_configured() -> None:
    host, address = await resolve_checked("http://127.0.0.1:9/x", allow_private=True)
    assert (host, address) == ("127.0.0.1", "127.0.0.1")


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/", "/x"])
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        validate_url_syntax(url)
