"""The demo command starts the web server and the workers together, and Ctrl-C leaves nothing behind."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid):
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid="], capture_output=True, text=True).stdout
    rows = [tuple(map(int, line.split())) for line in out.splitlines()]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent, _ in rows if parent in frontier} - found
        found |= frontier
    return found


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def test_demo_serves_login_and_stops_everything_on_ctrl_c(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SETTINGS")}
    env.update(ASCMON_DEMO="1", ASCMON_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    env.pop("REDIS_URL", None)
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--no-peers", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        page = wait_for(f"http://127.0.0.1:{port}/login/")
        assert "Log in to ascmon" in page
        spawned = children_of(demo.pid)
        assert spawned, "the demo should run the web server and qcluster as child processes"
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:  # the test failed: take down the demo and everything it started
            for pid in children_of(demo.pid) | {demo.pid}:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    assert "password of each is 'demo'" in output
    time.sleep(0.5)
    alive = children_of(os.getpid()) & spawned
    assert not alive, f"processes left behind: {alive}"
    assert not [
        p
        for p in spawned
        if os.path.exists(f"/proc/{p}") and "zombie" not in open(f"/proc/{p}/status").read()
    ]


def test_the_demo_refuses_a_database_with_users_it_did_not_create(db, monkeypatch):
    from django.contrib.auth.models import User
    from django.core.management import CommandError, call_command

    from ascmon.management.commands.demo import Command

    def must_not_start(*args):
        raise AssertionError("the demo went on to start its processes")

    monkeypatch.setattr(Command, "spawn", must_not_start)
    User.objects.create_user("admin", "ops@example.test", "the real admin's password")
    with pytest.raises(CommandError) as caught:
        call_command("demo", "--no-peers")
    assert "1 user(s) the demo did not create (admin)" in str(caught.value)
    assert User.objects.get(username="admin").check_password("the real admin's password")
    assert not User.objects.filter(username="analyst").exists()


def test_the_demo_resets_its_own_users_on_its_own_database(db):
    from django.contrib.auth.models import User

    from ascmon.management.commands.demo import Command, users_the_demo_did_not_create

    Command().create_demo_users()
    User.objects.filter(username="analyst").update(password="changed")
    assert users_the_demo_did_not_create() == []
    Command().create_demo_users()
    assert User.objects.get(username="analyst").check_password("demo")
