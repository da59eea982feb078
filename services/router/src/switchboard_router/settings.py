from switchboard_common.settings import CommonSettings


class RouterSettings(CommonSettings):
    service_name: str = "router"
    host: str = "0.0.0.0"
    port: int = 8002
