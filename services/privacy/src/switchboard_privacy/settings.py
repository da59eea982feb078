from switchboard_common.settings import CommonSettings


class PrivacySettings(CommonSettings):
    service_name: str = "privacy"
    host: str = "0.0.0.0"
    port: int = 8003
