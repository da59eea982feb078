"""The whole system in one process on $PORT against external servers (the bench's own stack)."""

from __future__ import annotations

import asyncio
import os


def main() -> None:
    from switchboard_common.logging import configure_logging
    from switchboard_common.service import serve
    from switchboard_devstack.composite import ServiceDispatcher, build_apps

    configure_logging("WARNING", json_output=True, service="bench")
    dispatcher = ServiceDispatcher(build_apps())
    asyncio.run(serve([(dispatcher, "127.0.0.1", int(os.environ["PORT"]))]))
