from switchboard_common.infra.service import run_service
from switchboard_common.infra.settings import load_settings

from switchboard_connectors.app import create_app
from switchboard_connectors.settings import ConnectorSettings

if __name__ == "__main__":
    settings = load_settings(ConnectorSettings)
    run_service(create_app, settings, host=settings.host, port=settings.port)
