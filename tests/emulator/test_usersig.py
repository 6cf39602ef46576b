"""UserSig verification: known-answer vector, Tencent's signer, other serialisations, error codes."""

from __future__ import annotations

import base64
import json
import zlib
from collections import OrderedDict
from typing import Any

import pytest

from chatsync.emulator.transport import EmulatorTransport
from chatsync.tencent import usersig
from tests.support import ADMIN, SDKAPPID, SECRET, Api, api_for, make_emulator

# docs/tencent-api.md §9: computed with the official signer and a frozen clock.
KAT_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
KAT_SIG = "1Z5PngDjGaufeSiPoBuxdHY7EK3JTdAjMP93S4KvV3M="
KAT_TIME, KAT_EXPIRE = 1600000000, 15552000


def kat_document(**override: Any) -> dict[str, Any]:
    document = {
        "TLS.ver": "2.0", "TLS.identifier": "xiaojun", "TLS.sdkappid": 1400000000,
        "TLS.expire": KAT_EXPIRE, "TLS.time": KAT_TIME, "TLS.sig": KAT_SIG,
    }
    document.update(override)
    return document


def verify_kat(sig: str, now: float, **kwargs: Any) -> int:
    params: dict[str, Any] = {"sdkappid": 1400000000, "identifier": "xiaojun", "secret_key": KAT_KEY,
                              "now": now}
    params.update(kwargs)
    return usersig.verify(sig, **params)


def test_known_answer_signature() -> None:
    assert usersig.signature(KAT_KEY, "xiaojun", 1400000000, KAT_TIME, KAT_EXPIRE) == KAT_SIG


@pytest.mark.parametrize("now", [KAT_TIME, KAT_TIME + 1, KAT_TIME + KAT_EXPIRE])
def test_known_answer_valid_inside_its_lifetime(now: int) -> None:
    assert verify_kat(usersig.encode(kat_document()), now) == usersig.OK


def test_known_answer_expires_one_second_after_time_plus_expire() -> None:
    assert verify_kat(usersig.encode(kat_document()), KAT_TIME + KAT_EXPIRE + 1) == usersig.EXPIRED


def test_key_order_separators_and_compression_level_do_not_matter() -> None:
    shuffled = OrderedDict(reversed(list(kat_document().items())))
    compact = json.dumps(shuffled, separators=(",", ":")).encode()
    for level in (0, 1, 9):
        text = base64.b64encode(zlib.compress(compact, level)).decode()
        sig = text.replace("+", "*").replace("/", "-").replace("=", "_")
        assert verify_kat(sig, KAT_TIME) == usersig.OK


def test_numbers_as_strings_are_accepted() -> None:
    document = kat_document(**{"TLS.sdkappid": "1400000000", "TLS.time": str(KAT_TIME)})
    assert verify_kat(usersig.encode(document), KAT_TIME) == usersig.OK


def test_signatures_from_tencents_package_verify() -> None:
    import time

    import TLSSigAPIv2

    sig = TLSSigAPIv2.TLSSigAPIv2(SDKAPPID, SECRET).gen_sig(ADMIN, 300)
    now = time.time()
    assert usersig.verify(sig, sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET, now=now) == 0
    assert usersig.verify(sig, sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET,
                          now=now + 400) == usersig.EXPIRED


@pytest.mark.parametrize(
    ("sig", "kwargs", "code"),
    [
        ("", {}, usersig.EMPTY),
        ("not-a-sig!", {}, usersig.UNDECODABLE),
        (base64.b64encode(b"plain text, not zlib").decode(), {}, usersig.UNDECODABLE),
        (usersig.encode(kat_document())[:-8], {}, usersig.UNDECODABLE),
        (usersig.encode(kat_document()), {"secret_key": "another-apps-key"}, usersig.WRONG_KEY),
        (usersig.encode(kat_document()), {"identifier": "someone"}, usersig.IDENTIFIER_MISMATCH),
        (usersig.encode(kat_document()), {"sdkappid": 1400000001}, usersig.SDKAPPID_MISMATCH),
        (usersig.encode(kat_document(**{"TLS.sig": None})), {}, usersig.UNDECODABLE),
        (usersig.encode(kat_document(**{"TLS.time": True})), {}, usersig.UNDECODABLE),
    ],
)
def test_each_failure_has_its_code(sig: str, kwargs: dict[str, Any], code: int) -> None:
    assert verify_kat(sig, KAT_TIME, **kwargs) == code


def test_check_order_is_decode_appid_identifier_expiry_hmac() -> None:
    expired = usersig.encode(kat_document())
    late = KAT_TIME + KAT_EXPIRE + 1
    # expired AND wrong key: expiry is checked before the HMAC
    assert verify_kat(expired, late, secret_key="wrong") == usersig.EXPIRED
    # wrong identifier AND expired: the identifier comes first
    assert verify_kat(expired, late, identifier="other") == usersig.IDENTIFIER_MISMATCH
    # wrong app AND wrong identifier: the app comes first
    assert verify_kat(expired, late, identifier="other", sdkappid=1) == usersig.SDKAPPID_MISMATCH


class TestThroughTheGateway:
    """The gateway reports each failure with its REST code, and honours the injectable clock."""

    def kat_api(self, now: float) -> Api:
        emulator = make_emulator(admins=("xiaojun",), clock=lambda: now)
        emulator.config.secret_key = KAT_KEY
        api = api_for(emulator, identifier="xiaojun")
        api.sig = usersig.encode(kat_document())
        return api

    def test_valid_until_the_last_second(self) -> None:
        assert self.kat_api(KAT_TIME + KAT_EXPIRE)("get_all_robots", {})["ErrorCode"] == 0
        assert self.kat_api(KAT_TIME + KAT_EXPIRE + 1)("get_all_robots", {})["ErrorCode"] == 70001

    @pytest.mark.parametrize(
        ("override", "code"),
        [
            ({"usersig": ""}, 70002),
            ({"usersig": None}, 70002),
            ({"usersig": "garbage"}, 70003),
            ({"identifier": "administrator"}, 70013),
        ],
    )
    def test_codes(self, override: dict[str, Any], code: int) -> None:
        answer = self.kat_api(KAT_TIME)("get_all_robots", {}, **override)
        assert (answer["ActionStatus"], answer["ErrorCode"]) == ("FAIL", code)
        assert answer["ErrorInfo"]

    def test_sdkappid_mismatch_between_url_and_sig(self, api: Api) -> None:
        api.sig = usersig.make(1400000001, SECRET, ADMIN)
        assert api("get_all_robots", {})["ErrorCode"] == 70014

    def test_wrong_key(self, api: Api) -> None:
        api.sig = usersig.make(SDKAPPID, "the-key-of-another-app", ADMIN)
        answer = api("get_all_robots", {})
        assert answer["ErrorCode"] == 70009
        assert "other SDKAppID" in answer["ErrorInfo"]

    def test_percent_encoded_sig_is_decoded(self, api: Api) -> None:
        import urllib.parse

        encoded = urllib.parse.quote(api.sig, safe="")
        assert "%2A" in encoded or "*" not in api.sig
        url = f"/v4/openim_robot_http_svc/get_all_robots?{api.query(usersig=None)}&usersig={encoded}"
        assert api.client.post(url, content=b"{}").json()["ErrorCode"] == 0

    def test_repeated_failures_block_the_identifier_for_a_minute(self) -> None:
        from chatsync.emulator import stance

        now: list[float] = [KAT_TIME]
        api = self.kat_api(KAT_TIME)
        transport = api.client._transport
        assert isinstance(transport, EmulatorTransport)
        transport.emulator.clock = lambda: now[0]
        good = api.sig
        api.sig = usersig.encode(kat_document(**{"TLS.sig": "AAAA"}))
        for _ in range(stance.SIG_FAILURES_BEFORE_BLOCK):
            assert api("get_all_robots", {})["ErrorCode"] == 70009
        api.sig = good
        assert api("get_all_robots", {})["ErrorCode"] == 70050
        now[0] += stance.SIG_BLOCK_SECONDS + 1
        assert api("get_all_robots", {})["ErrorCode"] == 0
