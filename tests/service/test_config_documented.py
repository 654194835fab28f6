"""Every setting Config reads from the environment is in the README's table."""
import re

from service.config import ROOT


def test_every_environment_variable_of_config_is_documented():
    source = (ROOT / "service" / "config.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'_(?:env|int|float)\("([A-Z][A-Z0-9_]+)"', source))
    assert {"SVAR_SESSION_IDLE_MINUTES", "SVAR_SESSION_LIFETIME_HOURS"} <= names
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| "))
    assert sorted(name for name in names if f"`{name}`" not in table) == []
