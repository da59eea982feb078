"""``python -m switchboard_common.migrations``: apply every migration to ``DATABASE_URL``."""

from switchboard_common.infra.settings import CommonSettings, load_settings
from switchboard_common.migrations import upgrade

upgrade(load_settings(CommonSettings).database_url)
print("migrations applied")
