"""An Azure Resource Manager simulator over HTTPS on 127.0.0.1, answering in the exact REST shapes.

It serves a token endpoint (the Entra v2.0 client-credentials flow MSAL uses), subscriptions, resources,
Microsoft.Security alerts (paged, per-location get, the four status actions) and pricings, storage
accounts with listKeys, and diagnostic settings. Faults and the "fixed" configuration of a tenant are
switched through /_sim/* control endpoints. Stdlib only, plus trustme for the TLS certificates.

    python -m ascmon.simulator.server --size small --seed 1 [--azurite http://127.0.0.1:10000]

prints one JSON line {"url", "ca", ...} when it listens.
"""

import argparse
import json
import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import trustme

from ascmon.simulator import routes
from ascmon.simulator import scenario as scenario_module
from ascmon.simulator.identity import TokenSigner
from ascmon.simulator.rest import Request
from ascmon.simulator.state import SimulatorState


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ascmon-arm-simulator"

    def log_message(self, format, *args):  # quiet: the tests and the demo read their own output
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=method,
            path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=self.server.base_url,
        )
        response = routes.handle(self.server.state, self.server.signer, request)
        self._send(response)

    def _send(self, response):
        if response.delay:
            time.sleep(response.delay)
        data = response.body if isinstance(response.body, bytes) else json.dumps(response.body).encode()
        if response.status == 204:
            data = b""
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("x-ms-request-id", response.request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if response.truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state, context, verbose=False):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state, self.context, self.verbose = state, context, verbose
        self.signer = TokenSigner()
        self.base_url = f"https://127.0.0.1:{self.server_address[1]}"

    def get_request(self):
        sock, address = self.socket.accept()
        # Handshake in the handler thread, so one slow client cannot stall accept().
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def tls_context(folder):
    """A trustme CA written to `folder/ca.pem` and a server context for 127.0.0.1 and localhost."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_path = os.path.join(folder, "ca.pem")
    ca.cert_pem.write_to_path(ca_path)
    return context, ca_path


def serve(scenario, azurite_url, folder=None, verbose=False, page_size=20):
    """Start serving in a background thread; returns (server, ca_path)."""
    folder = folder or tempfile.mkdtemp(prefix="ascmon-sim-")
    context, ca_path = tls_context(folder)
    server = SimulatorServer(SimulatorState(scenario, azurite_url, page_size), context, verbose)
    threading.Thread(target=server.serve_forever, name="arm-simulator", daemon=True).start()
    return server, ca_path


def parse_args(argv):
    parser = argparse.ArgumentParser(description="ascmon's Azure Resource Manager simulator")
    parser.add_argument("--size", default="small", choices=scenario_module.SIZES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", help="scenario time, ISO 8601 (default: now)")
    parser.add_argument("--azurite", default="http://127.0.0.1:10000", help="Azurite blob service base URL")
    parser.add_argument("--folder", help="where to write ca.pem (default: a new temporary folder)")
    parser.add_argument("--extra-alerts", type=int, default=0, help="more alerts in the demo subscription")
    parser.add_argument("--page-size", type=int, default=20, help="alerts per page")
    parser.add_argument(
        "--faults", default="[]", help='JSON list, e.g. [{"kind": "429", "match": "/alerts"}]'
    )
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC).replace(microsecond=0)
    scenario = scenario_module.build(args.seed, args.size, now, args.extra_alerts)
    server, ca_path = serve(scenario, args.azurite, args.folder, args.verbose, args.page_size)
    server.state.add_faults(json.loads(args.faults))
    print(json.dumps({"url": server.base_url, "ca": ca_path, "now": now.isoformat(), "pid": os.getpid()}))
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _interrupt)  # the demo and the fixtures stop us with SIGTERM
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if not args.folder:
            shutil.rmtree(os.path.dirname(ca_path), ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
