"""No secret key and no UserSig in any log line, error message or exception text (design §4)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import traceback
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import parse_qs

import httpx
import pytest
from click.testing import CliRunner

from chatsync.cli import main
from chatsync.emulator.transport import EmulatorTransport
from chatsync.errors import CallFailed
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from chatsync.text.redact import RedactingFilter, redact
from tests.client.conftest import envelope, mock
from tests.support import SECRET, make_emulator, refused_port

QUICK = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001, connect_attempts=2)


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def assert_clean(text: str, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in text
    # nothing that looks like a UserSig value either: usersig= is only ever followed by ***
    assert re.findall(r"usersig=(?!\*\*\*)", text, re.IGNORECASE) == []


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="chatsync")
    return caplog


def test_successful_calls_log_redacted_lines(make_client: Callable[..., Client],
                                             debug_log: pytest.LogCaptureFixture) -> None:
    client = make_client(make_emulator())
    ChatApi(client).multiaccount_import({"alice": {"nick": "Alice"}})
    client.call("get_all_robots")
    lines = [r.getMessage() for r in debug_log.records if r.name == "chatsync.client"]
    assert len(lines) == 2
    assert all("usersig=***" in line for line in lines)
    assert any("multiaccount_import" in line and "attempt=1" in line for line in lines)
    assert len(client.secrets()) == 2 and client.secrets()[0] == SECRET
    assert_clean(debug_log.text, client.secrets())


def test_a_permanent_failure_is_redacted_everywhere(make_client: Callable[..., Client],
                                                    debug_log: pytest.LogCaptureFixture) -> None:
    client = make_client(make_emulator(), key="wrong-key-0123456789abcdef")
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    secrets = (*client.secrets(), SECRET)
    assert "wrong-key-0123456789abcdef" in secrets
    assert "usersig=***" in debug_log.text
    for text in [debug_log.text, *texts_of(caught.value)]:
        assert_clean(text, secrets)


def test_dropped_connections_whose_errors_quote_the_url_and_sig_are_redacted(
    make_client: Callable[..., Client], debug_log: pytest.LogCaptureFixture,
) -> None:
    def hang_up(request: httpx.Request) -> NoReturn:
        sig = parse_qs(request.url.query.decode())["usersig"][0]
        # a transport error that quotes the request URL and, separately, the sig itself
        raise httpx.ReadError(f"connection lost for {request.url} (sig {sig}; key {SECRET})",
                              request=request)

    client = make_client(transport=mock(hang_up), retry=QUICK)
    with pytest.raises(CallFailed) as caught:
        client.call("account_check", {"CheckItem": [{"UserID": "a"}]})
    assert caught.value.attempts == 3
    assert "connection lost" in str(caught.value)  # the reason is kept, the secrets are not
    assert debug_log.text.count("usersig=***") >= 3
    for text in [debug_log.text, *texts_of(caught.value)]:
        assert_clean(text, client.secrets())


def test_a_refused_connection_is_redacted(make_client: Callable[..., Client],
                                          debug_log: pytest.LogCaptureFixture) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        client = make_client(transport=httpx.HTTPTransport(), target=Target((url,), "CHATSYNC_ENDPOINT"),
                             retry=QUICK)
        with pytest.raises(CallFailed) as caught:
            ChatApi(client).account_delete(["a", "b"])
    assert caught.value.attempts == 2
    assert "usersig=***" in debug_log.text
    for text in [debug_log.text, *texts_of(caught.value)]:
        assert_clean(text, client.secrets())


def test_a_bad_answer_that_echoes_the_query_is_redacted(make_client: Callable[..., Client],
                                                        debug_log: pytest.LogCaptureFixture) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text=f"no route for {request.url}")

    client = make_client(transport=mock(echo))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    for text in [debug_log.text, *texts_of(caught.value)]:
        assert_clean(text, client.secrets())


def test_an_error_info_that_quotes_the_sig_is_redacted(make_client: Callable[..., Client]) -> None:
    def quote_sig(request: httpx.Request) -> dict[str, Any]:
        sig = parse_qs(request.url.query.decode())["usersig"][0]
        return {**envelope(70003), "ErrorInfo": f"cannot parse UserSig {sig}"}

    client = make_client(transport=mock(quote_sig))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    assert caught.value.code == 70003
    for text in texts_of(caught.value):
        assert_clean(text, client.secrets())


def test_the_cli_takes_a_verbose_flag() -> None:
    result = CliRunner().invoke(main, ["-v", "--help"])
    assert result.exit_code == 0, result.output
    assert "--verbose" in result.output


def test_verbose_logging_goes_through_the_redacting_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.cli.flags import log_calls

    logger = logging.getLogger("chatsync")
    before, level = list(logger.handlers), logger.level
    undo = log_calls()
    try:
        assert log_calls()() is None  # asked again: nothing more to add, nothing to undo
        added = [h for h in logger.handlers if h not in before]
        assert len(added) == 1
        assert logger.level == logging.DEBUG
        stream = io.StringIO()
        with contextlib.redirect_stderr(stream):  # the handler writes to stderr as it is now
            logging.getLogger("chatsync.client").debug(
                "POST %s", "/v4/x/y?sdkappid=1&usersig=eJyrVipILUq&random=3")
        assert "usersig=***&random=3" in stream.getvalue()
        assert "eJyrVipILUq" not in stream.getvalue()
    finally:
        undo()
    assert logger.handlers == before and logger.level == level


@pytest.mark.parametrize("args", [["-v", "validate", "--help"], ["validate", "--help", "-v"]])
def test_verbose_lasts_one_command(args: list[str]) -> None:
    logger = logging.getLogger("chatsync")
    before = list(logger.handlers)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert logger.handlers == before  # the next command in this process logs nothing


def test_the_redacting_filter_scrubs_message_arguments_and_given_secrets() -> None:
    record = logging.LogRecord("chatsync.client", logging.DEBUG, __file__, 1,
                               "call %s failed with %s", ("/v4/a/b?usersig=eJx*abc-_&random=1",
                                                          f"key {SECRET}"), None)
    assert RedactingFilter(SECRET).filter(record)
    message = record.getMessage()
    assert message == "call /v4/a/b?usersig=***&random=1 failed with key ***"


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /v4/x?usersig=abc&random=1", "GET /v4/x?usersig=***&random=1"),
    ("UserSig=abc def", "UserSig=*** def"),
    ("'usersig=abc'", "'usersig=***'"),
])
def test_redact_replaces_usersig_values(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_emulator_transport_error_text_carries_no_secret(make_client: Callable[..., Client],
                                                             debug_log: pytest.LogCaptureFixture) -> None:
    emulator = make_emulator(fault_rate=1.0, seed=5)
    client = make_client(transport=EmulatorTransport(emulator), retry=QUICK)
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    for text in [debug_log.text, *texts_of(caught.value)]:
        assert_clean(text, client.secrets())


def test_no_library_log_line_carries_the_sig(make_client: Callable[..., Client],
                                             caplog: pytest.LogCaptureFixture) -> None:
    # An application that embeds chatsync (or a user's logging.basicConfig(level=INFO)) turns on the
    # root logger; every record then reaches its handlers, httpx's request lines included.
    caplog.set_level(logging.DEBUG)
    client = make_client(make_emulator())
    client.call("get_all_robots")
    assert caplog.records  # something was logged
    assert_clean(caplog.text, client.secrets())
