"""Keep one child process running: start it, restart it with backoff whenever it exits, stop it on SIGTERM.

A long-running process (the web, an RQ worker, rq cron) that exits on a
Redis or database outage comes back by itself once the outage is over,
instead of waiting for someone to restart it by hand.
"""
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

# Pauses before a restart grow from FIRST_PAUSE to MAX_PAUSE; a child that ran
# STEADY seconds counts as healthy and the next pause starts small again. A child
# that exits during an outage (rq cron, on Redis) is back at most MAX_PAUSE after
# the outage ends; a restart that fails at once costs a process start, no more.
FIRST_PAUSE = 1.0
MAX_PAUSE = 15.0
STEADY = 60.0
# How long a child may take to stop after SIGTERM before it is killed.
STOP_GRACE = 20.0


@dataclass
class Backoff:
    """The pause before the next restart, doubled at each quick exit."""

    first: float = FIRST_PAUSE
    most: float = MAX_PAUSE
    steady: float = STEADY
    pause: float = 0.0

    def after(self, ran_seconds: float) -> float:
        """The pause before restarting a child that ran this long."""
        if ran_seconds >= self.steady or self.pause == 0.0:
            self.pause = self.first
        else:
            self.pause = min(self.most, self.pause * 2)
        return self.pause


def program_name(command: list[str]) -> str:
    """What the log calls the child: the program and its subcommand, never its arguments (they may hold a URL with a password)."""
    parts = [os.path.basename(command[0])]
    if len(command) > 1 and not command[1].startswith("-"):
        parts.append(command[1])
    return " ".join(parts)


def keep(command: list[str], backoff: Backoff | None = None, say=None) -> int:
    """Run `command` until SIGTERM or SIGINT, restarting it when it exits; returns the last child's exit code."""
    backoff = backoff or Backoff()
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    name = program_name(command)
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    child = None
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(command)
        say(f"keep: started {name} (pid {child.pid})")
        code = _wait(child, stopping)
        if stopping:
            break
        pause = backoff.after(time.monotonic() - started)
        say(f"keep: {name} exited with code {code}; restarting in {pause:g}s")
        _sleep(pause, stopping)
    if child is not None and child.poll() is None:
        child.send_signal(stopping[0] if stopping else signal.SIGTERM)
        try:
            child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return child.returncode if child is not None else 0


def _wait(child, stopping) -> int | None:
    while child.poll() is None and not stopping:
        time.sleep(0.2)
    return child.returncode


def _sleep(seconds: float, stopping):
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.2, seconds))
