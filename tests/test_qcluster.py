"""`python manage.py qcluster` starts and stops cleanly with the ORM broker and with Redis."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def manage(*args, env, **kwargs):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_qcluster_runs_and_stops_on_sigterm(tmp_path, broker):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SETTINGS", "REDIS_URL"))}
    env.update(
        ASCMON_DEBUG="1", ASCMON_Q_LOG_LEVEL="INFO", DATABASE_URL=f"sqlite:///{tmp_path / 'q.sqlite3'}"
    )
    if broker == "redis":
        env["REDIS_URL"] = REDIS_URL
    assert manage("migrate", "-v0", env=env).wait(timeout=120) == 0
    cluster = manage("qcluster", env=env)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = cluster.stdout.readline()
            lines.append(line)
            if "running." in line or not line:
                break
        assert any("running." in line for line in lines), "".join(lines)
        cluster.send_signal(signal.SIGTERM)
        rest, _ = cluster.communicate(timeout=60)
    finally:
        if cluster.poll() is None:
            cluster.kill()
    assert "has stopped" in rest
