"""campaigns.pages_scrubbed_at: when the dispatch tables were rewritten after close (A4)

Revision ID: 0006c
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import service.models


revision = '0006c'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pages_scrubbed_at', service.models.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('pages_scrubbed_at')
