"""The rules `make lint`'s mypy run relies on: the few ``type: ignore`` comments say which error and why, and
the Redis client really decodes its replies (the ``str`` reply types of ``TextRedis`` depend on it)."""

from __future__ import annotations

import re
from pathlib import Path

from switchboard_common.infra.cache import TextRedis, create_redis
from switchboard_common.infra.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore")
# An error code, then the reason as a comment on the same line.
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z-]+(,\s*[a-z-]+)*\]\s+#\s*\S")


def _sources() -> list[Path]:
    return [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if IGNORE.search(line) and not EXPLAINED.search(line)
    ]
    assert unexplained == [], "type: ignore without an error code and a reason:\n" + "\n".join(unexplained)


def test_the_check_refuses_what_it_should() -> None:
    for line in (
        "x = f()  # type: ignore",
        "x = f()  # type: ignore[arg-type]",
        "x = f()  # type: ignore  # because",
    ):
        assert IGNORE.search(line) and not EXPLAINED.search(line), line
    assert EXPLAINED.search("class A(B):  # type: ignore[misc]  # B ships no types")


def test_the_redis_client_decodes_replies() -> None:
    client = create_redis(CommonSettings(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(client, TextRedis)
    assert client.connection_pool.connection_kwargs["decode_responses"] is True
