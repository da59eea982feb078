from __future__ import annotations

from switchboard_common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    host: str = "0.0.0.0"
    port: int = 8000
    # Origins allowed to call the widget endpoints from browsers; "*" while no inbox restricts them.
    widget_allowed_origins: str = "*"
    ws_heartbeat_seconds: float = 20.0
