"""releases: the pool goes out at close or in interim releases; answer side without rowid, with mode

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NO_ROWID = {'sqlite_with_rowid': False}


def _responses_columns():
    return [
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False, server_default='sms'),
        sa.Column('complete', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    ]


def upgrade():
    op.create_table('releases',
    sa.Column('campaign_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('released_on', sa.Date(), nullable=False),
    sa.Column('sets', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'number')
    )
    op.create_table('release_requests',
    sa.Column('campaign_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    if op.get_bind().dialect.name != 'sqlite':
        # PostgreSQL has no rowid; a release writes its rows in shuffled order.
        op.add_column('answer_pool', sa.Column('mode', sa.String(length=16), nullable=False, server_default='sms'))
        op.add_column('responses', sa.Column('mode', sa.String(length=16), nullable=False, server_default='sms'))
        return
    # SQLite: rebuild the answer side WITHOUT ROWID, so rows sit in random-id order (A2).
    with op.batch_alter_table('answer_pool', recreate='always', table_kwargs=NO_ROWID) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), nullable=False, server_default='sms'))
    # By hand, not batch: dropping responses with foreign keys on would cascade into answers.
    op.create_table('responses_new', *_responses_columns(), **NO_ROWID)
    op.execute("INSERT INTO responses_new (id, campaign_id, unit_id, group_id, language, complete) "
               "SELECT id, campaign_id, unit_id, group_id, language, complete FROM responses")
    op.create_table('answers_new',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('number', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['responses_new.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'question_id'),
    **NO_ROWID
    )
    op.execute("INSERT INTO answers_new SELECT response_id, question_id, value, number FROM answers")
    op.drop_table('answers')
    op.drop_table('responses')
    # Renaming responses_new also renames the reference in answers_new.
    op.rename_table('responses_new', 'responses')
    op.rename_table('answers_new', 'answers')
    op.create_index('ix_responses_campaign_id', 'responses', ['campaign_id'], unique=False)


def downgrade():
    op.drop_table('release_requests')
    op.drop_table('releases')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('mode')
    with op.batch_alter_table('answer_pool', schema=None) as batch_op:
        batch_op.drop_column('mode')
