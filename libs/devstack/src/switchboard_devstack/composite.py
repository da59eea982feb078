"""Every service in one process behind one port, for `make run` and end-to-end tests.

Requests go to the service that production's Ingress would pick (``switchboard_common.infra.topology``); each
service keeps its own app, lifespan, resources and consumers, exactly as when it runs alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send
from switchboard_common.infra.topology import DEFAULT_SERVICE, service_for_path


class ServiceDispatcher:
    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self.apps = dict(apps)
        self._stack: contextlib.AsyncExitStack | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.apps.get(service_for_path(scope.get("path", ""))) or self.apps[DEFAULT_SERVICE]
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stack = contextlib.AsyncExitStack()
                try:
                    for app in self.apps.values():
                        # FastAPI does not run a mounted app's lifespan: enter each one explicitly.
                        await self._stack.enter_async_context(app.router.lifespan_context(app))  # type: ignore[attr-defined]
                except BaseException as exc:
                    await self._stack.aclose()
                    await send({"type": "lifespan.startup.failed", "message": type(exc).__name__ + ": " + str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._stack is not None:
                    await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_apps(env: Mapping[str, str] | None = None) -> dict[str, ASGIApp]:
    """The four service apps, configured from the environment (or ``env``)."""
    from switchboard_connectors.app import create_app as connectors_app
    from switchboard_connectors.settings import ConnectorSettings
    from switchboard_gateway.app import create_app as gateway_app
    from switchboard_gateway.settings import GatewaySettings
    from switchboard_privacy.app import create_app as privacy_app
    from switchboard_privacy.settings import PrivacySettings
    from switchboard_router.app import create_app as router_app
    from switchboard_router.settings import RouterSettings

    kwargs = {k.lower(): v for k, v in (env or {}).items()}
    return {
        "gateway": gateway_app(GatewaySettings(**kwargs)),
        "connectors": connectors_app(ConnectorSettings(**kwargs)),
        "router": router_app(RouterSettings(**kwargs)),
        "privacy": privacy_app(PrivacySettings(**kwargs)),
    }
