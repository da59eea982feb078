from switchboard_common.service import run_service

from switchboard_gateway.app import create_app
from switchboard_gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()
    run_service(create_app, settings, host=settings.host, port=settings.port)
