from switchboard_common.settings import CommonSettings


class ConnectorSettings(CommonSettings):
    service_name: str = "connectors"
    host: str = "0.0.0.0"
    port: int = 8001
