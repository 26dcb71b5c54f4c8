"""pipeline: runs, dataset versions, job steps, one champion per kind

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CHAMPION = sa.text("status = 'champion'")


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retrain_schedule', sa.String(length=16), nullable=False,
                                      server_default='off'))
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_path', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('size_bytes', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('mode', sa.String(length=16), nullable=False,
                                      server_default='replace'))
        batch_op.add_column(sa.Column('base_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mapping', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('target', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('drift', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('job_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('ready_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_datasets_base_id', 'datasets', ['base_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key('fk_jobs_parent_id', 'jobs', ['parent_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_jobs_parent_id', ['parent_id'], unique=False)
    op.create_table('runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.String(length=32), nullable=True),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=True),
    sa.Column('models', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('live_at', sa.DateTime(), nullable=True),
    sa.Column('explained_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_tenant_id', ['tenant_id'], unique=False)
        batch_op.create_index('ix_runs_dataset_id', ['dataset_id'], unique=False)
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    op.create_index('uq_model_versions_one_champion', 'model_versions', ['tenant_id', 'kind'],
                    unique=True, sqlite_where=CHAMPION, postgresql_where=CHAMPION)


def downgrade() -> None:
    op.drop_index('uq_model_versions_one_champion', table_name='model_versions')
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_column('note')
    op.drop_table('runs')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_parent_id')
        batch_op.drop_constraint('fk_jobs_parent_id', type_='foreignkey')
        batch_op.drop_column('parent_id')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_datasets_base_id', type_='foreignkey')
        for column in ('ready_at', 'job_id', 'error', 'drift', 'target', 'mapping', 'base_id',
                       'mode', 'size_bytes', 'data_path'):
            batch_op.drop_column(column)
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('retrain_schedule')
