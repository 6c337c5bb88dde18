"""The README's production notes, followed as written: migrate, collectstatic, gunicorn with production
settings behind a TLS-terminating proxy (simulated by its headers); log in; get static files."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = "a long production password"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Browser:
    """Requests as the proxy passes them on: X-Forwarded-Proto https and the client in X-Forwarded-For."""

    def __init__(self, port):
        self.port, self.cookies = port, SimpleCookie()
        self.origin = f"https://127.0.0.1:{port}"

    def request(self, method, path, body=None, proxied=True, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": f"127.0.0.1:{self.port}", "Accept-Encoding": "gzip", **(headers or {})}
        if proxied:
            sent.update({"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        if body is not None:
            sent.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin})
            sent["Referer"] = f"{self.origin}/login/"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.data = response.read()
        for header in response.headers.get_all("Set-Cookie") or ():
            self.cookies.load(header)
        connection.close()
        return response


def wait_until_up(browser, process):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            return browser.request("GET", "/healthz", proxied=False)
        except OSError:
            time.sleep(0.3)
    raise AssertionError("gunicorn never answered")


@pytest.fixture
def production(tmp_path):
    """A production environment (DEBUG off, required secrets given) on its own database, started under
    gunicorn as the README says; yields a Browser and the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASCMON_", "DJANGO_", "SECRET_KEY"))}
    env.pop("REDIS_URL", None)
    env.update(
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        ASCMON_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        ASCMON_STATIC_ROOT=str(tmp_path / "static"),
        ALLOWED_HOSTS="127.0.0.1",
        ASCMON_BEHIND_PROXY="1",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.test")
    port = free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "ascmon.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        browser = Browser(port)
        assert wait_until_up(browser, server).status == 200
        yield browser
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_gunicorn_serves_the_app_over_the_proxy_logs_in_and_serves_static_files(production):
    browser = production
    plain = browser.request("GET", "/login/", proxied=False)
    assert plain.status == 301 and plain.headers["Location"].startswith("https://")

    login = browser.request("GET", "/login/")
    assert login.status == 200
    assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "script-src 'self'" in login.headers["Content-Security-Policy"]
    assert browser.cookies["csrftoken"]["secure"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login.data).group(1).decode()

    body = urlencode({"csrfmiddlewaretoken": token, "username": "boss", "password": PASSWORD, "next": "/"})
    logged_in = browser.request("POST", "/login/", body=body)
    assert logged_in.status == 302, logged_in.data[:2000]
    assert browser.cookies["sessionid"]["secure"] and browser.cookies["sessionid"]["httponly"]

    alerts = browser.request("GET", "/alerts/")
    assert alerts.status == 200 and b"<h1" in alerts.data
    page = alerts.data.decode()
    htmx = re.search(r'src="(/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js)"', page).group(1)
    style = re.search(r'href="(/static/ascmon/style\.[0-9a-f]{12}\.css)"', page).group(1)
    for path, kind in ((htmx, "javascript"), (style, "text/css")):
        static = browser.request("GET", path)
        assert static.status == 200
        assert kind in static.headers["Content-Type"]
        assert "immutable" in static.headers["Cache-Control"]
        assert static.headers["Content-Encoding"] == "gzip"
    plotly = browser.request("GET", "/static/vendor/plotly.min.js")
    assert plotly.status == 200 and len(plotly.data) > 100_000
