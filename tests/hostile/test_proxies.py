"""Items 4 and 5: a plain-http call never goes through a proxy; https honours HTTPS_PROXY through
CONNECT (the UserSig stays inside TLS) and SSL_CERT_FILE; a malformed proxy variable is one clear
line; and a URL's password is never printed. Real sockets on loopback: a TLS fake server with a
throw-away certificate, and a proxy that would answer in the service's place if it could."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from chatsync.errors import CallFailed, NetworkSetupError
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target
from tests.hostile.conftest import HonestApp, one_error
from tests.hostile.fakes import Behaviour, ConnectProxy, FakeServer, Pki, TlsFakeServer, ok
from tests.support import ADMIN, SDKAPPID, SECRET


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
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


def test_plain_http_never_goes_through_http_proxy_or_all_proxy(fake: Callable[[Behaviour], FakeServer],
                                                               cli: Callable[..., Result],
                                                               proxy: ConnectProxy) -> None:
    server = fake(HonestApp(bots={"@RBT#real": {}}))
    env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url, "all_proxy": proxy.url,
           "HTTPS_PROXY": proxy.url}
    result = cli(server.url, "plan", "--format", "json", bots={}, prune_bots=True, env=env)
    assert result.exit_code == 0, result.stderr
    assert proxy.heads == []  # the proxy saw nothing, so it could neither read nor forge
    assert "@RBT#forged" not in result.stdout and "@RBT#real" in result.stdout


def test_https_goes_through_https_proxy_by_connect_and_the_usersig_stays_inside_tls(
    certificate: tuple[Path, Path], proxy: ConnectProxy,
) -> None:
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


def test_direct_https_trusts_ssl_cert_file_checks_the_host_and_keeps_its_connection(
    certificate: tuple[Path, Path],
) -> None:
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


def test_without_ssl_cert_file_a_self_signed_service_is_refused(certificate: tuple[Path, Path]) -> None:
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
def test_a_malformed_proxy_variable_is_one_clear_line_without_its_password(cli: Callable[..., Result],
                                                                           value: str) -> None:
    result = cli("https://127.0.0.1:1", "plan", bots={}, env={"HTTPS_PROXY": value})
    line = one_error(result)
    assert "HTTPS_PROXY" in line and "hunter2" not in result.stderr + result.stdout, line


def test_a_missing_ssl_cert_file_is_one_clear_line(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("https://127.0.0.1:1", "plan", bots={}, env={"SSL_CERT_FILE": str(tmp_path / "none.pem")})
    assert "SSL_CERT_FILE" in one_error(result)


def test_proxy_for_ignores_plain_http_and_honours_no_proxy() -> None:
    from chatsync.tencent.proxies import proxy_for

    env = {"HTTPS_PROXY": "http://p:3128", "HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:3128"}
    assert proxy_for(Target(("http://127.0.0.1:8080",), "x"), env) is None
    tencent = Target(("https://adminapisgp.im.qcloud.com",), "x")
    assert proxy_for(tencent, env) is not None
    assert proxy_for(tencent, {**env, "NO_PROXY": ".qcloud.com"}) is None
    with pytest.raises(NetworkSetupError):
        proxy_for(Target(("https://a.example",), "x"), {"ALL_PROXY": "socks5h://p:1"})


# -- item 5: one redaction of URLs with credentials --------------------------------------------------

def test_apply_plan_endpoint_mismatch_never_prints_the_password(fake: Callable[[Behaviour], FakeServer],
                                                                cli: Callable[..., Result],
                                                                tmp_path: Path) -> None:
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
def test_redact_url(url: str, shown: str) -> None:
    from chatsync.text.redact import redact, redact_url

    assert redact_url(url) == shown
    if "://" in url:  # in free text, a URL is known by its scheme
        assert redact(f"see {url} now") == f"see {shown} now"
    assert redact("mail bob@example.com now") == "mail bob@example.com now"


# -- issue 21: proxies as curl does it ----------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """One throw-away CA for the module (its keys take a while to make)."""
    from tests.hostile.fakes import Pki

    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[tuple[TlsFakeServer, Path]]:
    """A TLS fake service with a certificate of ``pki``'s CA; yields (server, CA file)."""
    server = TlsFakeServer(lambda endpoint, body: ok(Robot_Account=["@RBT#tls"]), pki.server_context())
    server.__enter__()
    yield server, pki.ca
    server.__exit__()


def dead_proxy_url() -> str:
    import socket

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://user:hunter2@127.0.0.1:{sock.getsockname()[1]}"


def call_fails(url: str, environ: dict[str, str]) -> CallFailed:
    from chatsync.tencent.retry import RetryPolicy

    with Client(Target((url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET), environ=environ,
                retry=RetryPolicy(base_delay=0.001, max_delay=0.01)) as failing, \
            pytest.raises(CallFailed) as caught:
        failing.call("get_all_robots", {})
    text = str(caught.value)
    assert "hunter2" not in text and "Traceback" not in text and "usersig=" not in text.lower()
    return caught.value


def test_the_lower_case_proxy_variable_wins_as_in_curl(tls_server: tuple[TlsFakeServer, Path],
                                                       proxy: ConnectProxy) -> None:
    server, ca = tls_server
    env = {"https_proxy": proxy.url, "HTTPS_PROXY": dead_proxy_url(), "SSL_CERT_FILE": str(ca)}
    with client(server.url, env) as tls_client:
        assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]
    assert [head.split(b" ")[0] for head in proxy.heads] == [b"CONNECT"]


@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "127.0.0.1", "*", "example.com,127.0.0.1:{port}",
                                      "10.0.0.0/8, 127.0.0.1/32", "::1,127.0.0.0/8"])
def test_no_proxy_entries_send_the_call_direct(tls_server: tuple[TlsFakeServer, Path], no_proxy: str) -> None:
    server, ca = tls_server
    port = server.url.rsplit(":", 1)[1]
    env = {"HTTPS_PROXY": dead_proxy_url(), "NO_PROXY": no_proxy.format(port=port), "SSL_CERT_FILE": str(ca)}
    with client(server.url, env) as tls_client:
        assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]


@pytest.mark.parametrize(("host", "port", "no_proxy", "bypassed"), [
    ("api.example.com", 443, "example.com", True),
    ("api.example.com", 443, ".example.com", True),
    ("example.com", 443, ".example.com", True),
    ("badexample.com", 443, "example.com", False),
    ("api.example.com", 443, "api.example.com:443", True),
    ("api.example.com", 443, "api.example.com:8443", False),
    ("api.example.com.", 443, "API.Example.COM", True),
    ("10.1.2.3", 443, "10.0.0.0/8", True),
    ("11.1.2.3", 443, "10.0.0.0/8", False),
    ("api.example.com", 443, "10.0.0.0/8", False),
    ("::1", 443, "::1", True),
    ("fd00::5", 443, "fd00::/8", True),
    ("fe80::5", 443, "fd00::/8", False),
    ("fd00::5", 8443, "[fd00::5]:8443", True),
    ("fd00::5", 443, "[fd00::5]:8443", False),
    ("anything.example", 443, "*", True),
    ("anything.example", 443, "", False),
])
def test_no_proxy_matching(host: str, port: int, no_proxy: str, bypassed: bool) -> None:
    from chatsync.tencent.proxies import bypassed as is_bypassed

    assert is_bypassed(host, port, {"NO_PROXY": no_proxy}) is bypassed


def test_lower_case_no_proxy_wins_over_the_upper_case_one() -> None:
    from chatsync.tencent.proxies import bypassed, proxy_for

    assert bypassed("a.example", 443, {"no_proxy": "a.example", "NO_PROXY": "b.example"})
    assert not bypassed("b.example", 443, {"no_proxy": "a.example", "NO_PROXY": "b.example"})
    proxy = proxy_for(Target(("https://a.example",), "x"), {"https_proxy": "p:1", "HTTPS_PROXY": "q:2"})
    assert proxy is not None and proxy.url == "http://p:1" and proxy.variable == "https_proxy"


def test_a_dead_proxy_is_named_as_the_proxy_with_its_password_hidden(
    tls_server: tuple[TlsFakeServer, Path],
) -> None:
    server, ca = tls_server
    caught = call_fails(server.url, {"HTTPS_PROXY": dead_proxy_url(), "SSL_CERT_FILE": str(ca)})
    text = str(caught)
    assert "the proxy http://***@127.0.0.1:" in text and "(HTTPS_PROXY)" in text, text
    assert "is the server running" not in text and "NO_PROXY" in text, text
    assert caught.stops_run and caught.attempts == 3  # a few quick tries, as for any connect failure
    assert server.seen == []


def test_a_proxy_asking_for_credentials_is_not_retried_and_says_what_to_do(
    tls_server: tuple[TlsFakeServer, Path],
) -> None:
    server, ca = tls_server
    asking = ConnectProxy(credentials="user:secret")
    try:
        caught = call_fails(server.url, {"HTTPS_PROXY": asking.url, "SSL_CERT_FILE": str(ca)})
        assert len(asking.heads) == 1 and caught.attempts == 1 and caught.stops_run
        text = str(caught)
        assert "407" in text and "the proxy http://127.0.0.1:" in text, text
        assert "HTTPS_PROXY (http://user:password@host:port)" in text, text
        # with the credentials in the variable, the same proxy lets the call through
        with_them = asking.url.replace("http://", "http://user:secret@")
        with client(server.url, {"HTTPS_PROXY": with_them, "SSL_CERT_FILE": str(ca)}) as tls_client:
            assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]
    finally:
        asking.close()


@pytest.mark.parametrize(("status", "attempts"), [("403 Forbidden", 1), ("502 Bad Gateway", 3)])
def test_a_proxy_refusing_the_tunnel_is_named_as_the_proxy(tls_server: tuple[TlsFakeServer, Path],
                                                           status: str, attempts: int) -> None:
    server, ca = tls_server
    refusing = ConnectProxy(refuse=status)
    try:
        caught = call_fails(server.url, {"https_proxy": refusing.url, "SSL_CERT_FILE": str(ca)})
    finally:
        refusing.close()
    text = str(caught)
    assert f"the proxy {refusing.url} (https_proxy) refused a tunnel" in text, text
    assert status.split()[0] in text and "is the server running" not in text, text
    assert caught.attempts == attempts and len(refusing.heads) == attempts and caught.stops_run


# -- issue 21: TLS failures say what they are -----------------------------------------------------

def test_a_ca_only_in_ssl_cert_file_is_trusted(tls_server: tuple[TlsFakeServer, Path]) -> None:
    server, ca = tls_server
    with client(server.url, {"SSL_CERT_FILE": str(ca)}) as tls_client:
        assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]


def test_a_ca_only_in_a_system_style_store_is_trusted(tls_server: tuple[TlsFakeServer, Path], pki: Pki,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # chatsync is given no SSL_CERT_* variable: it trusts the system's store (truststore: on Linux,
    # OpenSSL's default locations) and certifi's bundle. OpenSSL's default directory is pointed
    # at a hashed store holding the test CA (as /etc/ssl/certs holds one a admin installed with
    # update-ca-certificates): the CA is in no bundle chatsync names, and the call verifies.
    server, _ = tls_server
    monkeypatch.setenv("SSL_CERT_DIR", str(pki.hashed_store()))
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.folder / "no-such-file.pem"))
    with client(server.url, {}) as tls_client:
        assert tls_client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#tls"]
    monkeypatch.delenv("SSL_CERT_DIR")  # the control: without that store the same server is refused
    caught = call_fails(server.url, {})
    assert "not signed by a certificate authority this machine trusts" in str(caught)


@pytest.mark.parametrize(("kind", "reason", "advice"), [
    ("unknown-ca", "not signed by a certificate authority this machine trusts", "SSL_CERT_FILE"),
    ("expired", "it has expired", "clock"),
    ("wrong-host", "issued for another host name", "check the host in CHATSYNC_ENDPOINT"),
])
def test_a_certificate_that_does_not_verify_is_not_retried_and_says_why(pki: Pki, kind: str, reason: str,
                                                                        advice: str) -> None:
    context = {"unknown-ca": lambda: pki.server_context(),
               "expired": lambda: pki.server_context("old", days=-1),
               "wrong-host": lambda: pki.server_context("other", san="DNS:other.example")}[kind]()
    server = TlsFakeServer(lambda endpoint, body: ok(Robot_Account=[]), context).__enter__()
    try:
        environ = {} if kind == "unknown-ca" else {"SSL_CERT_FILE": str(pki.ca)}
        caught = call_fails(server.url, environ)
    finally:
        server.__exit__()
    text = str(caught)
    assert "the certificate of 127.0.0.1 does not verify" in text and reason in text and advice in text, text
    assert caught.attempts == 1 and caught.stops_run and "is the server running" not in text
    assert server.seen == []
