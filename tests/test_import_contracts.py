"""The import contracts of pyproject.toml (import-linter) hold, and a broken one fails the run."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("flows", "service", "workers")
# An answer-side module, named as a module so that a move of it rewrites this line too.
ANSWER_SIDE_MODULE = "service.answer_side.results"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages under `root`, with the project's configuration, no cache."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=300, env=env,
    )


def test_the_import_contracts_are_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_answer_side_module_importing_workers_breaks_two_contracts(tmp_path):
    # A copy of the tree, so that the check is seen to fail on the very import the layers forbid.
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    module = tmp_path / (ANSWER_SIDE_MODULE.replace(".", "/") + ".py")
    module.write_text(module.read_text() + "\nfrom workers import send  # noqa: E402,F401\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert f"{ANSWER_SIDE_MODULE} -> workers.send" in done.stdout
    # The answer side's contract catches it too: results is answer side, workers are forbidden to it.
    assert " kept, 2 broken." in done.stdout
