"""The peers a test run or the demo starts (Azurite, the ARM simulator) end with the process that started
them, even when it is killed: nothing is left running on the machine for the next run to trip over."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTER = """
import json, sys, time
from ascmon.simulator import azurite, launcher
emulator = azurite.start({"ascmonlife": "YXNjbW9uLWxpZmUta2V5LW5vdC1hLXNlY3JldC0wMDAwMDA="})
simulator = launcher.start_arm_simulator(azurite_url=f"http://127.0.0.1:{emulator.port}")
print(json.dumps([emulator.process.pid, simulator.process.pid]), flush=True)
time.sleep(600)
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


@pytest.mark.peers
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_azurite_and_the_arm_simulator_end_when_their_starter_is_killed():
    starter = subprocess.Popen([sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peers = json.loads(starter.stdout.readline())
    assert all(alive(pid) for pid in peers)
    starter.send_signal(signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in peers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in peers if alive(pid)]
