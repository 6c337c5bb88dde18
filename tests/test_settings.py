"""Start-up refuses to run without the values production must set, and says which."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ASCMON_", "SECRET_KEY", "DJANGO_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_names_the_variable():
    result = run_check()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_missing_encryption_key_names_the_variable():
    result = run_check(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ASCMON_ENCRYPTION_KEY" in result.stderr


def test_production_settings_start_when_both_are_set():
    from cryptography.fernet import Fernet

    result = run_check(SECRET_KEY="x" * 50, ASCMON_ENCRYPTION_KEY=Fernet.generate_key().decode())
    assert result.returncode == 0, result.stderr
