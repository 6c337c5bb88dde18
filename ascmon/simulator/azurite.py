"""Start and stop an Azurite blob service on a free loopback port with the given accounts."""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "node_modules" / ".bin" / "azurite-blob"
LISTENING = re.compile(rb"listens on https?://127\.0\.0\.1:(\d+)")


@dataclass
class Azurite:
    """A running Azurite: `endpoint(name)` is the path-style blob endpoint of account `name`."""

    process: subprocess.Popen
    port: int
    accounts: dict
    location: str
    owns_location: bool = field(default=False)

    def endpoint(self, account_name):
        return f"http://127.0.0.1:{self.port}/{account_name}"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owns_location:
            shutil.rmtree(self.location, ignore_errors=True)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def ends_with_parent():
    """In the child before it runs: Linux sends it SIGTERM when the process that started it dies, even by
    SIGKILL, so a killed test run or demo leaves no emulator behind (elsewhere: a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(accounts, location=None, timeout=30):
    """accounts: {name: base64 key}. Returns a running Azurite; call `.stop()` when done."""
    owns = location is None
    location = location or tempfile.mkdtemp(prefix="azurite-")
    env = {**os.environ, "AZURITE_ACCOUNTS": ";".join(f"{name}:{key}" for name, key in accounts.items())}
    command = [
        str(BINARY), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", location, "--silent",
        "--skipApiVersionCheck", "--loose", "--disableTelemetry",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=ends_with_parent
    )
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        match = LISTENING.search(line)
        if match:
            return Azurite(process, int(match.group(1)), dict(accounts), location, owns)
    process.kill()
    raise RuntimeError(f"Azurite did not start: {seen.decode(errors='replace')[-500:]}")
