"""response counts per campaign, kept by the pool flush

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('response_counts',
    sa.Column('campaign_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    # Campaigns that already have responses start from their true count.
    op.execute(
        "INSERT INTO response_counts (campaign_id, responses) "
        "SELECT campaign_id, count(*) FROM responses GROUP BY campaign_id"
    )


def downgrade():
    op.drop_table('response_counts')
