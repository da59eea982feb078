from switchboard_common.infra.settings import CommonSettings


class RouterSettings(CommonSettings):
    service_name: str = "router"
    host: str = "0.0.0.0"
    port: int = 8002
    # How often grace periods (an agent's dropped socket) are checked.
    router_timer_interval_seconds: float = 0.5
    # How often each writer re-drains its queues (safety net: business hours opening, raised limits) and
    # pushes visitors' queue positions.
    router_queue_interval_seconds: float = 1.0
    # Most records a writer applies per round (and decisions per committed batch).
    router_batch_limit: int = 500
