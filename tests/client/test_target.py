"""Where calls go (region, app.endpoint, CHATSYNC_ENDPOINT) and what Client.for_app needs."""

from __future__ import annotations

from typing import Any

import pytest

from chatsync.domain.model import AppConfig
from chatsync.emulator.transport import EmulatorTransport
from chatsync.errors import ChatsyncError, CredentialsError, TargetError
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.regions import REGIONS
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import secret_key_from_env
from chatsync.tencent.target import resolve
from tests.client.conftest import FAST
from tests.support import ADMIN, SDKAPPID, SECRET, make_emulator


def app(**fields: Any) -> AppConfig:
    return AppConfig(sdkappid=SDKAPPID, **fields)


@pytest.mark.parametrize("name", sorted(REGIONS))
def test_each_region_resolves_to_its_primary_then_its_backup(name: str) -> None:
    region = REGIONS[name]
    target = resolve(app(region=name), {})
    assert target.urls == (f"https://{region.primary}", f"https://{region.backup}")
    assert target.url == f"https://{region.primary}"
    assert name in target.source


def test_the_regions_are_the_documented_eight() -> None:
    assert {r.primary for r in REGIONS.values()} == {
        "console.tim.qq.com", "adminapisgp.im.qcloud.com", "adminapikr.im.qcloud.com",
        "adminapijpn.im.qcloud.com", "adminapiger.im.qcloud.com", "adminapiusa.im.qcloud.com",
        "adminapiidn.im.qcloud.com", "adminapiind.im.qcloud.com",
    }
    assert resolve(app(), {}).url == "https://console.tim.qq.com"  # china is the default


def test_app_endpoint_overrides_the_region_and_is_used_alone() -> None:
    target = resolve(app(region="singapore", endpoint="https://proxy.example.com"), {})
    assert target.urls == ("https://proxy.example.com",)
    assert target.source == "app.endpoint"


def test_chatsync_endpoint_wins_over_app_endpoint_and_region() -> None:
    environ = {"CHATSYNC_ENDPOINT": "http://127.0.0.1:8080"}
    target = resolve(app(region="tokyo", endpoint="https://proxy.example.com"), environ)
    assert target.urls == ("http://127.0.0.1:8080",)
    assert target.source == "CHATSYNC_ENDPOINT"
    # an empty variable is as good as unset
    assert resolve(app(region="tokyo"), {"CHATSYNC_ENDPOINT": ""}).url == "https://adminapijpn.im.qcloud.com"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "http://127.0.0.5",
    "https://adminapisgp.im.qcloud.com",
])
def test_http_only_for_loopback_hosts_https_anywhere(url: str) -> None:
    assert resolve(app(), {"CHATSYNC_ENDPOINT": url}).urls == (url,)
    assert resolve(app(endpoint=url), {}).urls == (url,)


@pytest.mark.parametrize("url", [
    "http://example.com", "http://10.0.0.1:8080", "http://adminapisgp.im.qcloud.com",
    "http://localhost.example.com",
])
def test_http_to_a_non_loopback_host_is_refused_with_a_word_about_https(url: str) -> None:
    for environ, fields in (({"CHATSYNC_ENDPOINT": url}, {}), ({}, {"endpoint": url})):
        with pytest.raises(TargetError) as caught:
            resolve(app(**fields), environ)
        assert "https://" in str(caught.value)
        assert isinstance(caught.value, ChatsyncError)
    with pytest.raises(TargetError, match="CHATSYNC_ENDPOINT"):
        resolve(app(), {"CHATSYNC_ENDPOINT": url})


@pytest.mark.parametrize(("given", "used"), [
    ("https://proxy.example.com/", "https://proxy.example.com"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
])
def test_a_trailing_slash_is_removed(given: str, used: str) -> None:
    assert resolve(app(endpoint=given), {}).urls == (used,)
    assert resolve(app(), {"CHATSYNC_ENDPOINT": given}).urls == (used,)


def test_an_unknown_region_is_a_clear_error_listing_the_known_ones() -> None:
    with pytest.raises(TargetError) as caught:
        resolve(app(region="atlantis"), {})
    text = str(caught.value)
    assert "atlantis" in text
    assert all(name in text for name in REGIONS)
    assert "\n" not in text


# -- credentials and Client.for_app ----------------------------------------------------------------

def test_a_missing_key_variable_is_named_with_what_to_do() -> None:
    config = app(endpoint="http://127.0.0.1:8080", secret_key_env="MY_APP_KEY")
    with pytest.raises(CredentialsError) as caught:
        Client.for_app(config, {"CHATSYNC_SECRET_KEY": SECRET})  # the default name does not count
    text = str(caught.value)
    assert "MY_APP_KEY" in text and "not set" in text and "export" in text
    assert SECRET not in text


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_a_blank_key_variable_is_refused_too(blank: str) -> None:
    config = app(endpoint="http://127.0.0.1:8080")
    with pytest.raises(CredentialsError) as caught:
        Client.for_app(config, {"CHATSYNC_SECRET_KEY": blank})
    text = str(caught.value)
    assert "CHATSYNC_SECRET_KEY" in text and "empty" in text and "export" in text


def test_a_key_with_stray_whitespace_is_refused_without_echoing_it() -> None:
    with pytest.raises(CredentialsError) as caught:
        secret_key_from_env("K", {"K": SECRET + "\n"})
    assert "K" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert secret_key_from_env("K", {"K": SECRET}) == SECRET


def test_for_app_uses_the_environment_admin_and_rates() -> None:
    emulator = make_emulator()
    config = app(region="singapore", admin=ADMIN, secret_key_env="KEY_OF_TEST_APP",
                 rates={"portrait_set": 7, "account_check": 3})
    environ = {"KEY_OF_TEST_APP": SECRET, "CHATSYNC_ENDPOINT": "http://127.0.0.1:8080"}
    with Client.for_app(config, environ, transport=EmulatorTransport(emulator), retry=FAST) as client:
        assert client.target.urls == ("http://127.0.0.1:8080",)
        assert client.sigs.identifier == ADMIN and client.sigs.sdkappid == SDKAPPID
        assert client.pacers.rates["portrait_set"] == 7
        assert client.pacers.rates["account_check"] == 3
        assert client.pacers.rates["create_robot"] == ENDPOINTS["create_robot"].rate_per_second
        assert client.call("get_all_robots", {}).answer["ErrorCode"] == 0
    assert emulator.calls["get_all_robots"] == 1


def test_for_app_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATSYNC_SECRET_KEY", SECRET)
    monkeypatch.setenv("CHATSYNC_ENDPOINT", "http://localhost:1234/")
    with Client.for_app(app(), parallelism=2) as client:
        assert client.target.url == "http://localhost:1234"
        assert client.parallelism == 2


def test_for_app_refuses_a_bad_endpoint_before_reading_the_key() -> None:
    with pytest.raises(TargetError):
        Client.for_app(app(endpoint="http://example.com"), {})
