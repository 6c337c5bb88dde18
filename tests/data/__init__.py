"""Microsoft's example payloads and log lines (README.md names each source). A missing or empty file fails
the test that asks for it, instead of letting it compare two empty results."""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent


def path(name):
    found = DATA / name
    if not found.is_file() or found.stat().st_size == 0:
        raise FileNotFoundError(f"tests/data/{name} is missing or empty: it is part of the repository")
    return found


def example_json(name):
    return json.loads(path(name).read_text(encoding="utf-8-sig"))


def example_log_lines():
    """The eleven documented sample lines of classic Storage Analytics logs."""
    lines = [
        line
        for name in ("storage-analytics-log-format-samples.log", "storage-analytics-logging-samples.log")
        for line in path(name).read_text(encoding="utf-8").splitlines()
    ]
    if len(lines) != 11:
        raise AssertionError(f"tests/data holds {len(lines)} sample log lines, not Microsoft's eleven")
    return lines
