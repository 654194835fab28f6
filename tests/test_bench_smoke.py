"""Each benchmark script runs in its tiny mode (--quick) and prints its table, so the scripts do not rot."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["inbound", "send", "launch", "reminders", "pages"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_runs_quick(name):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={"BENCH_SQLITE_ONLY": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "machine: cpus" in done.stdout
    # Every script prints a table: a header, a rule, at least one row.
    lines = done.stdout.splitlines()
    rule = next(index for index, line in enumerate(lines) if line.startswith("---"))
    assert len(lines) > rule + 1 and lines[rule + 1].strip()
