from switchboard_common.infra.service import run_service
from switchboard_common.infra.settings import load_settings

from switchboard_router.app import create_app
from switchboard_router.settings import RouterSettings

if __name__ == "__main__":
    settings = load_settings(RouterSettings)
    run_service(create_app, settings, host=settings.host, port=settings.port)
