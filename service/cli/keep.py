"""`svar keep -- CMD...`: run CMD and restart it with backoff whenever it exits (see service/cli/keeper.py)."""
import sys

import click

from .keeper import keep as keep_running


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def keep(command):
    """Run COMMAND, restart it whenever it exits; SIGTERM stops it and this."""
    code = keep_running(list(command))
    # Stopped by a signal, as asked: not a failure.
    sys.exit(code if code and code > 0 else 0)
