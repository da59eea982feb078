from switchboard_common.infra.settings import CommonSettings


class RouterSettings(CommonSettings):
    service_name: str = "router"
    host: str = "0.0.0.0"
    port: int = 8002
    # How often due timers (offers, snooze, no-reply, auto-resolve, escalation) and grace periods are checked.
    router_timer_interval_seconds: float = 0.5
    # How often every queue is drained (safety net) and visitors' queue positions pushed.
    router_queue_interval_seconds: float = 1.0
