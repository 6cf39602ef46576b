"""The gateway: URL and query checks, admin rights, body parsing, check order and client quirks."""

from __future__ import annotations

from typing import Any

import pytest

from chatsync.facts.endpoints import ENDPOINTS
from tests.support import Api, api_for, make_emulator, sign


def code_of(api: Api, name: str = "get_all_robots", body: Any = None, **kwargs: Any) -> int:
    response = api.request(name, body if body is not None else {}, **kwargs)
    assert response.status_code == 200  # business errors are always HTTP 200
    answer = response.json()
    assert {"ActionStatus", "ErrorCode", "ErrorInfo"} <= answer.keys()
    assert (answer["ActionStatus"] == "OK") == (answer["ErrorCode"] == 0)
    code: int = answer["ErrorCode"]
    return code


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v4/openim_robot_http_svc/get_all_robots", 0),
        ("/v4/openim_robot_http_svc/no_such_command", 60009),
        ("/v4/no_such_service/account_import", 60009),
        ("/v3/im_open_login_svc/account_import", 60009),
        ("/", 60009),
        ("/v4/openim_robot_http_svc/get_all_robots/", 60009),
    ],
)
def test_unknown_paths(api: Api, path: str, code: int) -> None:
    assert code_of(api, path=path) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"sdkappid": None}, 60012),
        ({"sdkappid": ""}, 60012),
        ({"sdkappid": "abc"}, 60025),
        ({"identifier": None}, 60025),
        ({"contenttype": None}, 60025),
        ({"contenttype": "xml"}, 60025),
        ({"contenttype": "JSON"}, 60025),  # values are case-sensitive
        ({"random": None}, 60025),
        ({"random": "-1"}, 60025),
        ({"random": str(2**32)}, 60025),
        ({"random": str(2**32 - 1)}, 0),
        ({"random": "0"}, 0),
        ({"sdkappid": 1400000001}, 70020),  # another app: not found in this data centre
    ],
)
def test_query_checks(api: Api, query: dict[str, Any], code: int) -> None:
    assert code_of(api, **query) == code


def test_identifier_that_is_not_an_admin(api: Api) -> None:
    api("account_import", {"UserID": "alice"})
    api.identifier, api.sig = "alice", sign("alice")
    assert code_of(api) == 60010


def test_several_admins() -> None:
    assert code_of(api_for(make_emulator(admins=("administrator", "ops")), identifier="ops")) == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{", 60003), (b"\xff\xfe", 60003), (b"", 60003), (b"   ", 60003), (b"null", 60003)],
)
def test_body_must_be_json(api: Api, raw: bytes, code: int) -> None:
    assert code_of(api, "account_import", raw=raw) == code


def test_empty_body_is_fine_for_get_all_robots(api: Api) -> None:
    assert code_of(api, raw=b"") == 0
    assert code_of(api, raw=b"[]") == 0


@pytest.mark.parametrize("raw", [b"null", b"5", b'"x"', b"true", b"[1]", b'[{"UserID": "alice"}]', b"[[]]"])
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_body_that_is_json_but_not_an_object_is_60003_on_every_api(api: Api, name: str, raw: bytes) -> None:
    """docs/tencent-api.md §1.1: the body is a JSON object; §1.5: 60003 otherwise. Not the API's
    own invalid-parameter code (10004, 70402, 40001); only get_all_robots also takes [] (§9.6)."""
    answer = api.request(name, raw=raw).json()
    assert (answer["ErrorCode"], answer["ActionStatus"]) == (60003, "FAIL"), answer


def test_non_string_user_id_is_60015(api: Api) -> None:
    assert code_of(api, "account_import", {"UserID": 42}) == 60015


class TestCheckOrder:
    """path -> query -> app -> UserSig -> admin -> rate -> body -> logic (stance §8)."""

    def test_path_before_query(self, api: Api) -> None:
        assert code_of(api, path="/v4/x/y", sdkappid=None) == 60009

    def test_query_before_sig(self, api: Api) -> None:
        assert code_of(api, contenttype=None, usersig="garbage") == 60025

    def test_sig_before_admin(self, api: Api) -> None:
        api.identifier = "not-an-admin"
        assert code_of(api) == 70013  # the sig is the admin's, so it mismatches first
        api.sig = sign("not-an-admin", key="wrong")
        assert code_of(api) == 70009

    def test_admin_before_rate_and_body(self) -> None:
        emulator = make_emulator(rate_limit_scale=1 / 200)  # 1 call per second
        api = api_for(emulator)
        emulator.store.accounts["bob"] = {}
        assert code_of(api, "account_import", raw=b"{") == 60003  # admitted, then the body fails
        assert code_of(api, "account_import", raw=b"{") == 60007  # second call in the second
        bob = api_for(emulator, identifier="bob")
        assert code_of(bob, "account_import", raw=b"{") == 60010

    def test_sig_failure_before_body(self, api: Api) -> None:
        assert code_of(api, "account_import", raw=b"{", usersig="garbage") == 70003


class TestClientQuirks:
    """What real third-party clients send (docs/tencent-api.md §9)."""

    def test_no_content_type_header(self, api: Api) -> None:
        url = f"/v4/im_open_login_svc/account_import?{api.query()}"
        response = api.client.post(url, content=b'{"UserID": "alice"}', headers={"Content-Type": ""})
        assert response.json()["ErrorCode"] == 0

    def test_get_with_a_json_body(self, api: Api) -> None:
        api("account_import", {"UserID": "alice"})
        response = api.request("account_check", {"CheckItem": [{"UserID": "alice"}]}, method="GET")
        assert response.json()["ResultItem"][0]["AccountStatus"] == "Imported"

    def test_other_methods_are_refused(self, api: Api) -> None:
        assert code_of(api, method="PUT") == 60002

    def test_repeated_random_is_accepted(self, api: Api) -> None:
        assert [code_of(api, random=7) for _ in range(3)] == [0, 0, 0]

    def test_unknown_fields_are_ignored(self, api: Api) -> None:
        assert code_of(api, "account_import", {"UserID": "alice", "Future": {"x": 1}}) == 0

    def test_every_answer_has_the_envelope_and_a_request_id(self, api: Api) -> None:
        answer = api("get_all_robots", {})
        assert answer["RequestId"].startswith("Id-")
        assert answer["ErrorInfo"] == ""
