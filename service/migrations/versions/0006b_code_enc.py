"""invitations.code_enc: the one-time code encrypted for the messages that carry it, never in clear (A7)

Revision ID: 0006b
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006b'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_enc', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('code_enc')
