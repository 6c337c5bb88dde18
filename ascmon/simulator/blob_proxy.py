"""A fault-injecting HTTP proxy in front of Azurite: Azurite never throttles, Azure does.

Requests pass through unchanged (shared-key signatures hold: they do not cover the host) unless a fault
matches the path: then the proxy answers as Azure Storage does when it throttles, a 429 with Retry-After
(seconds) or x-ms-retry-after-ms, without asking Azurite. Every request is logged with the time it
arrived, so tests see what reached the peer and when.

    proxy = BlobProxy("http://127.0.0.1:10000").start()   # in-process, in a thread
    proxy.add_faults({"kind": "429", "match": "/account/$logs/", "count": 1, "retry_after": 1})
    proxy.url                                              # use instead of Azurite's URL

    python -m ascmon.simulator.blob_proxy --azurite http://127.0.0.1:10000 [--faults JSON]
"""

import argparse
import http.client
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
THROTTLED_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>TooManyRequests</Code>'
    b"<Message>The request is being throttled.</Message></Error>"
)


@dataclass
class BlobFault:
    """Answer the next `count` requests whose path contains `match` with a 429 (count -1: until cleared)."""

    kind: str = "429"
    match: str = ""
    count: int = 1
    retry_after: float | None = 1
    retry_after_ms: int | None = None


@dataclass
class Arrival:
    at: float  # time.time() when the request arrived
    method: str
    path: str
    status: int


class BlobProxy:
    def __init__(self, azurite_url):
        parts = urlsplit(azurite_url)
        self.upstream = (parts.hostname, parts.port)
        self.faults, self.log, self.lock = [], [], threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, account_name):
        return f"{self.url}/{account_name}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, name="blob-proxy", daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add_faults(self, *faults):
        with self.lock:
            self.faults.extend(BlobFault(**fault) for fault in faults)

    def reset(self):
        with self.lock:
            self.faults, self.log = [], []

    def arrivals(self, match=""):
        with self.lock:
            return [arrival for arrival in self.log if match in arrival.path]

    def take_fault(self, path):
        with self.lock:
            for fault in self.faults:
                if fault.count != 0 and fault.match in path:
                    fault.count -= 1 if fault.count > 0 else 0
                    return fault
            return None

    def record(self, arrival):
        with self.lock:
            self.log.append(arrival)


def _handler(proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            self.relay()

        do_PUT = do_HEAD = do_DELETE = do_POST = do_GET

        def relay(self):
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fault = proxy.take_fault(self.path)
            if fault is not None:
                proxy.record(Arrival(arrived, self.command, self.path, 429))
                return self.throttle(fault)
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            upstream.close()
            proxy.record(Arrival(arrived, self.command, self.path, answer.status))
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def throttle(self, fault):
            self.send_response(429, "Too Many Requests")
            self.send_header("x-ms-error-code", "TooManyRequests")
            if fault.retry_after is not None:
                self.send_header("Retry-After", str(fault.retry_after))
            if fault.retry_after_ms is not None:
                self.send_header("x-ms-retry-after-ms", str(fault.retry_after_ms))
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(THROTTLED_BODY)))
            self.end_headers()
            self.wfile.write(THROTTLED_BODY)

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="429-injecting proxy in front of Azurite")
    parser.add_argument("--azurite", default="http://127.0.0.1:10000")
    parser.add_argument("--faults", default="[]", help='JSON list, e.g. [{"match": "/$logs/", "count": -1}]')
    args = parser.parse_args(argv)
    proxy = BlobProxy(args.azurite)
    proxy.add_faults(*json.loads(args.faults))
    proxy.start()
    print(json.dumps({"url": proxy.url}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()


if __name__ == "__main__":
    main()
