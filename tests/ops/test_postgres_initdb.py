"""The local PostgreSQL's first start: a data directory left half-made by an interrupted initdb is made again,
and an initdb that keeps failing says why (its own message), not only "exit status 1"."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from switchboard_devstack.servers import PostgresServer


def test_a_half_made_data_directory_is_made_again(tmp_path: Path) -> None:
    server = PostgresServer(tmp_path / "postgres", durable=False)
    server.pgdata.mkdir(parents=True)
    (server.pgdata / "left-by-a-crash").write_text("x")  # initdb refuses a non-empty directory
    server.prepare()
    assert (server.pgdata / "PG_VERSION").exists()
    assert not (server.pgdata / "left-by-a-crash").exists()


def test_a_failing_initdb_says_why(tmp_path: Path) -> None:
    server = PostgresServer(tmp_path / "postgres", durable=False)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    initdb = fake_bin / "initdb"
    initdb.write_text("#!/bin/sh\necho 'could not create directory: No space left on device' >&2\nexit 1\n")
    initdb.chmod(initdb.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    server.bin = fake_bin
    with pytest.raises(RuntimeError, match="No space left on device") as failure:
        server.prepare()
    assert "then:" in str(failure.value)  # tried twice
