"""The `svar` command: one click group, one module per command family."""
import click

from . import db, run, simulate, surveys, tokens, users


@click.group()
def main():
    """Svar: user surveys over SMS and chat."""


for command in (run.run, db.db, users.users, tokens.tokens, surveys.surveys, simulate.simulate):
    main.add_command(command)
