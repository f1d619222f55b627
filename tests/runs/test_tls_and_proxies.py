"""Corporate networks: a TLS-inspecting proxy's private CA, and HTTPS through a proxy.

The emulator serves HTTPS with a certificate of a private CA made for the test (trustme), as
such a proxy presents one. Untrusted, the certificate ends the run at once with one line (an
untrusted certificate stays untrusted on every retry); trusted through the standard
environment or the `ca_bundle` setting, the sync works. HTTPS_PROXY is followed.
"""

from __future__ import annotations

import select
import socket
import socketserver
import ssl
import threading
import time

import pytest
import trustme

from tests.support.tap import catalog_for, config_for

STREAMS = ["tickets", "ticket_fields"]


@pytest.fixture
def private_ca(tmp_path):
    ca = trustme.CA()
    bundle = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, str(bundle)


@pytest.fixture
def https_emulator(make_emulator, private_ca):
    ca, _ = private_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    emulator = make_emulator(tickets=60, tls=context)
    assert emulator.url.startswith("https://")
    return emulator


def _sync(run_tap, emulator, env=None, **overrides):
    # Without typed columns, discovering the catalog here asks Zendesk nothing.
    config = config_for(emulator, typed_custom_fields=False, **overrides)
    return run_tap(config, catalog=catalog_for(config, STREAMS), env=env)


# Neither the machine's nor the test runner's CA settings may leak into these runs.
CLEAN = {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""}


def test_an_untrusted_certificate_ends_the_run_at_once_with_one_line(https_emulator, run_tap):
    started = time.monotonic()
    run = _sync(run_tap, https_emulator, env=CLEAN)

    assert run.returncode == 1
    assert time.monotonic() - started < 30
    assert "retrying" not in run.stderr
    assert any(
        "TLS certificate of 127.0.0.1" in line and "set ca_bundle" in line
        for line in run.error_lines
    ), run.stderr


def test_requests_ca_bundle_in_the_environment_is_trusted(https_emulator, private_ca, run_tap):
    _, bundle = private_ca
    run = _sync(run_tap, https_emulator, env={**CLEAN, "REQUESTS_CA_BUNDLE": bundle})

    assert run.returncode == 0, run.stderr
    assert sorted(run.ids("tickets")) == sorted(https_emulator.dataset.ids("tickets"))


def test_the_ca_bundle_setting_is_trusted(https_emulator, private_ca, run_tap):
    _, bundle = private_ca
    run = _sync(run_tap, https_emulator, env=CLEAN, ca_bundle=bundle)

    assert run.returncode == 0, run.stderr
    assert run.ids("tickets")


def test_a_ca_bundle_that_is_not_a_file_is_one_line_before_any_request(emulator, run_tap):
    emulator.reset_stats()
    run = run_tap(config_for(emulator, ca_bundle="/nowhere/ca.pem"))

    assert run.returncode != 0
    assert "ca_bundle must be the path of a PEM file" in run.stderr
    assert emulator.stats["total_requests"] == 0


class _ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on loopback that counts the tunnels it opened."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        super().__init__(("127.0.0.1", 0), _Tunnel)


class _Tunnel(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        method, target, _ = request.split(" ", 2)
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        self.server.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            sockets = [self.connection, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.connection else self.connection).sendall(data)


@pytest.fixture
def proxy():
    server = _ConnectProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_https_proxy_from_the_environment_carries_every_request(
    https_emulator, private_ca, proxy, run_tap
):
    _, bundle = private_ca
    address = f"http://127.0.0.1:{proxy.server_address[1]}"
    env = {**CLEAN, "HTTPS_PROXY": address, "https_proxy": address, "NO_PROXY": "", "no_proxy": ""}

    run = _sync(run_tap, https_emulator, env=env, ca_bundle=bundle)

    assert run.returncode == 0, run.stderr
    assert run.ids("tickets")
    host = https_emulator.url.removeprefix("https://")
    assert proxy.tunnels
    assert set(proxy.tunnels) == {host}
