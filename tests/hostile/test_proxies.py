"""Items 4 and 5: a plain-http call never goes through a proxy; https honours HTTPS_PROXY through
CONNECT (the UserSig stays inside TLS) and SSL_CERT_FILE; a malformed proxy variable is one clear
line; and a URL's password is never printed. Real sockets on loopback: a TLS fake server with a
throw-away certificate, and a proxy that would answer in the service's place if it could."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path

import pytest

from chatsync.tencent.client import CallFailed, Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.proxies import NetworkSetupError
from chatsync.tencent.target import Target
from tests.hostile.conftest import HonestApp, one_error
from tests.hostile.fakes import ConnectProxy, TlsFakeServer, ok
from tests.support import ADMIN, SDKAPPID, SECRET


@pytest.fixture
def proxy():
    running = ConnectProxy()
    yield running
    running.close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def client(url: str, environ: dict[str, str]) -> Client:
    return Client(Target((url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET), environ=environ)


def test_plain_http_never_goes_through_http_proxy_or_all_proxy(fake, cli, proxy):
    server = fake(HonestApp(bots={"@RBT#real": {}}))
    env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url, "all_proxy": proxy.url,
           "HTTPS_PROXY": proxy.url}
    result = cli(server.url, "plan", "--format", "json", bots={}, prune_bots=True, env=env)
    assert result.exit_code == 0, result.stderr
    assert proxy.heads == []  # the proxy saw nothing, so it could neither read nor forge
    assert "@RBT#forged" not in result.stdout and "@RBT#real" in result.stdout


def test_https_goes_through_https_proxy_by_connect_and_the_usersig_stays_inside_tls(certificate, proxy):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = TlsFakeServer(lambda endpoint, body: ok(Robot_Account=["@RBT#tls"]), context).__enter__()
    try:
        with client(server.url, {"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(cert)}) as tls_client:
            answer = tls_client.call("get_all_robots", {}).answer
            sigs = tls_client.secrets()
    finally:
        server.__exit__()
    assert answer["Robot_Account"] == ["@RBT#tls"]
    assert [head.split(b" ")[0] for head in proxy.heads] == [b"CONNECT"]
    assert server.seen and "usersig=" in server.seen[0].target  # the service got the signed call
    seen = bytes(proxy.seen)
    assert b"usersig" not in seen.lower()
    assert not any(sig.encode() in seen for sig in sigs if sig)


def test_direct_https_trusts_ssl_cert_file_checks_the_host_and_keeps_its_connection(certificate):
    # no proxy applies: the engine speaks TLS itself, with the client's one SSLContext
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = TlsFakeServer(lambda endpoint, body: ok(Robot_Account=["@RBT#tls"]), context).__enter__()
    environ = {"SSL_CERT_FILE": str(cert)}
    try:
        with client(server.url, environ) as tls_client:
            assert tls_client._engine.proxy is None
            for _ in range(3):
                assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]
        # the certificate names 127.0.0.1 only: the same server as "localhost" is refused
        other = server.url.replace("127.0.0.1", "localhost")
        with client(other, environ) as tls_client, pytest.raises(CallFailed) as caught:
            tls_client.call("get_all_robots", {})
    finally:
        server.__exit__()
    assert [seen.connection for seen in server.seen] == [1, 1, 1]
    assert caught.value.stops_run and "localhost" in str(caught.value), str(caught.value)


def test_without_ssl_cert_file_a_self_signed_service_is_refused(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = TlsFakeServer(lambda endpoint, body: ok(Robot_Account=[]), context).__enter__()
    try:
        with client(server.url, {}) as tls_client, pytest.raises(CallFailed) as caught:
            tls_client.call("get_all_robots", {})
    finally:
        server.__exit__()
    assert "certificate" in str(caught.value).lower() or "ssl" in str(caught.value).lower()


@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "http://[::1", "http://proxy:99999",
                                   "http://user:hunter2@proxy:0", "http://", "ftp://user:hunter2@p:21"])
def test_a_malformed_proxy_variable_is_one_clear_line_without_its_password(cli, value):
    result = cli("https://127.0.0.1:1", "plan", bots={}, env={"HTTPS_PROXY": value})
    line = one_error(result)
    assert "HTTPS_PROXY" in line and "hunter2" not in result.stderr + result.stdout, line


def test_a_missing_ssl_cert_file_is_one_clear_line(cli, tmp_path):
    result = cli("https://127.0.0.1:1", "plan", bots={}, env={"SSL_CERT_FILE": str(tmp_path / "none.pem")})
    assert "SSL_CERT_FILE" in one_error(result)


def test_proxy_for_ignores_plain_http_and_honours_no_proxy():
    from chatsync.tencent.proxies import proxy_for

    env = {"HTTPS_PROXY": "http://p:3128", "HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:3128"}
    assert proxy_for(Target(("http://127.0.0.1:8080",), "x"), env) is None
    tencent = Target(("https://adminapisgp.im.qcloud.com",), "x")
    assert proxy_for(tencent, env) is not None
    assert proxy_for(tencent, {**env, "NO_PROXY": ".qcloud.com"}) is None
    with pytest.raises(NetworkSetupError):
        proxy_for(Target(("https://a.example",), "x"), {"ALL_PROXY": "socks5h://p:1"})


# -- item 5: one redaction of URLs with credentials --------------------------------------------------

def test_apply_plan_endpoint_mismatch_never_prints_the_password(fake, cli, tmp_path):
    server = fake(HonestApp())
    saved = tmp_path / "plan.json"
    made = cli(server.url, "plan", "--out", str(saved), bots={"@RBT#new": {}})
    assert made.exit_code == 0, made.stderr
    other = server.url.replace("http://", "http://admin:hunter2@")
    result = cli(other, "apply", "--plan", str(saved), config=False)
    line = one_error(result)
    assert "hunter2" not in result.stdout + result.stderr and "***@" in line, line
    assert json.loads(saved.read_text())["app"]["endpoint"] == server.url


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pa@ss@host:1/x", "https://***@host:1/x"),
    ("user:pw@host", "***@host"),
    ("http://h/?usersig=abc", "http://h/?usersig=***"),
    ("https://host", "https://host"),
])
def test_redact_url(url, shown):
    from chatsync.redact import redact, redact_url

    assert redact_url(url) == shown
    if "://" in url:  # in free text, a URL is known by its scheme
        assert redact(f"see {url} now") == f"see {shown} now"
    assert redact("mail bob@example.com now") == "mail bob@example.com now"
