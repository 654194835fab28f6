"""The `svar` command: one click group, one module per command family."""
import click

from . import db, keep, run, simulate, surveys, telegram, tokens, translate, users


@click.group()
def main():
    """Svar: user surveys over SMS and chat."""


for command in (run.run, db.db, users.users, tokens.tokens, surveys.surveys, simulate.simulate, telegram.telegram, translate.translate, keep.keep):
    main.add_command(command)
