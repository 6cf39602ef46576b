"""Call one Chat REST API endpoint with a signed URL: the emulator, or the real service.

Shows everything a client needs (the URL layout, the admin UserSig, the JSON body), so you can
point any script or SDK at ``chatsync emulator`` the same way. The secret key is read from the
environment and never printed.

    CHATSYNC_SECRET_KEY=... python examples/call_emulator.py http://127.0.0.1:8080 \\
        account_import '{"UserID": "alice", "Nick": "Alice"}'
"""

from __future__ import annotations

import json
import os
import random
import sys

import httpx

from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent import usersig


def main() -> int:
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in ENDPOINTS:
        print(f"usage: {sys.argv[0]} BASE_URL ENDPOINT [JSON_BODY]\n"
              f"endpoints: {', '.join(ENDPOINTS)}", file=sys.stderr)
        return 2
    base_url, name = sys.argv[1], sys.argv[2]
    body = json.loads(sys.argv[3]) if len(sys.argv) == 4 else {}
    key = os.environ.get("CHATSYNC_SECRET_KEY")
    if not key:
        print("Error: set CHATSYNC_SECRET_KEY to the app's secret key", file=sys.stderr)
        return 1
    sdkappid = int(os.environ.get("CHATSYNC_SDKAPPID", "1400000000"))
    params = {
        "sdkappid": sdkappid,
        "identifier": "administrator",
        "usersig": usersig.make(sdkappid, key, "administrator", expire=300),
        "random": random.randrange(2**32),
        "contenttype": "json",
    }
    response = httpx.post(f"{base_url}{ENDPOINTS[name].path}", params=params, json=body, timeout=10)
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0 if response.json().get("ErrorCode") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
