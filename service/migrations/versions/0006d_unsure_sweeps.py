"""outbox rows count the sweeps that found them unsure: lookups are capped, resends without a lookup counted

Revision ID: 0006d
Revises: 0006c
"""
from alembic import op
import sqlalchemy as sa


revision = '0006d'
down_revision = '0006c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unsure_sweeps', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('unsure_sweeps')
