"""releases.held: blocks a release hides from then on, because they gained 1 to k-1 answers in it (A3)

Revision ID: 0006f
Revises: 0006d
"""
from alembic import op
import sqlalchemy as sa


revision = '0006f'
down_revision = '0006d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('held')
