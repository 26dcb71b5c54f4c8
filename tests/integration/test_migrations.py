"""The migrations build exactly the schema the models declare, and step down again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

pytestmark = pytest.mark.integration


def _differences(url: str) -> list:
    import dashboard.schema  # noqa: F401  (registers every table)
    from dashboard.database import Base, make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_the_migrated_database_matches_the_declared_schema(database_url):
    assert _differences(database_url) == []


def test_the_latest_migration_steps_down_and_up_again(tmp_path):
    from dashboard.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'steps.db'}"
    upgrade(url)
    from alembic import command

    from dashboard.database import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
        command.upgrade(config, "head")
    engine.dispose()

    assert _differences(url) == []
