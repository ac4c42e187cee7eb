"""Outside development a process refuses to start with a development key, and says which."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from config.settings import DEV_BLIND_INDEX_KEY, DEV_DATA_KEY, PROJECT_ROOT, Settings

OWN = {"secret_key": "s" * 48, "data_key": "cHJvZC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLi4uLiE=", "blind_index_key": "b" * 32}


@pytest.mark.parametrize("name", ["secret_key", "data_key", "blind_index_key"])
def test_production_settings_refuse_each_development_key_by_name(name):
    keys = dict(OWN)
    keys.pop(name)  # left at its development default
    with pytest.raises(ValidationError, match=name.upper()):
        Settings(environment="production", **keys)


def test_production_settings_with_own_keys_are_accepted_and_development_names_its_keys():
    assert Settings(environment="production", **OWN).development_keys() == []
    assert Settings(data_key=DEV_DATA_KEY, blind_index_key=DEV_BLIND_INDEX_KEY).development_keys() == [
        "SECRET_KEY", "DATA_KEY", "BLIND_INDEX_KEY"]


@pytest.mark.parametrize("module", [["-c", "import api.main; api.main.app"], ["-m", "workers.main"]])
def test_a_production_process_with_a_development_key_does_not_start(module):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATA_KEY", "BLIND_INDEX_KEY")}
    env.update(ENVIRONMENT="production", DATA_KEY=OWN["data_key"], BLIND_INDEX_KEY=OWN["blind_index_key"],
               DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", PYTHONPATH=str(PROJECT_ROOT))
    done = subprocess.run([sys.executable, *module], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr and "DATA_KEY" not in done.stderr.split("refuses")[-1].split(";")[0]
