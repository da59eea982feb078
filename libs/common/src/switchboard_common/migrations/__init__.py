"""The database schema of every domain: alembic migrations (``versions/``) and how to run them.

``python -m switchboard_common.migrations`` applies them (the Kubernetes migration Job, ``make run``, tests).
The package sits beside ``infra`` and ``domain``, not in either: it needs infrastructure (settings) and every
domain's tables (``tables``), and infrastructure may not import the domain.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from switchboard_common.infra.settings import normalize_database_url

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_database_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)
