"""campaigns.pages_scrubbed_at (dispatch tables rewritten after close), no statistics of secret columns, an index of nudges (A1, A4)

Revision ID: 0006c
Revises: 0006b
"""
from alembic import op
import sqlalchemy as sa

import service.models


revision = '0006c'
down_revision = '0006b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pages_scrubbed_at', service.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_sends_nudges', ['invitation_id'], unique=False,
                              postgresql_where=sa.text('number = 0'), sqlite_where=sa.text('number = 0'))
    if op.get_bind().dialect.name == 'postgresql':
        # Statistics already gathered stay until the next ANALYZE of the table; see service/models.py UNSAMPLED.
        for table in service.models.UNSAMPLED:
            op.execute(service.models.unsampled_ddl(table))


def downgrade():
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_sends_nudges')
    if op.get_bind().dialect.name == 'postgresql':
        for table, columns in service.models.UNSAMPLED.items():
            op.execute(f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {column} SET STATISTICS -1" for column in columns))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('pages_scrubbed_at')
