"""The migrations build exactly the schema the models describe (no drift), and there is one head."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.migrations import alembic_config
from switchboard_common.migrations.tables import metadata
from switchboard_devstack.servers import StackUrls


async def test_models_match_migrations(stack_urls: StackUrls) -> None:
    engine = create_async_engine(stack_urls.database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
        )
    await engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/db")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: add a merge revision"
