"""`.env.example` documents every environment variable the settings read (a deployer's only list of them)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_variable_the_settings_read_is_in_env_example():
    settings = (ROOT / "yidi" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env(?:_int|_bool|_secret|_list|_float)?\(\s*"([A-Z0-9_]+)"', settings))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.MULTILINE))
    assert len(read) > 50  # the pattern still finds the settings' readings
    assert sorted(read - listed) == []
