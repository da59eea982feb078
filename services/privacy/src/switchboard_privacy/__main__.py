from switchboard_common.infra.service import run_service
from switchboard_common.infra.settings import load_settings

from switchboard_privacy.app import create_app
from switchboard_privacy.settings import PrivacySettings

if __name__ == "__main__":
    settings = load_settings(PrivacySettings)
    run_service(create_app, settings, host=settings.host, port=settings.port)
