"""Where Tencent's docs are silent: the emulator's decisions, kept in one place.

The emulator takes the strictest plausible reading (docs/tencent-api.md §8) so that a client that
works here works against the real service under either reading. Handlers read these constants;
docs/emulator.md lists the same decisions.
"""

# The 20-bot limit counts active bots per app (``--max-bots``); the 21st gets 10008. (Each
# emulator serves one app, so the store's count of active bots is the per-app count.)

#: ``create_robot`` on an active bot answers OK and changes nothing (fields are NOT updated).
CREATE_ROBOT_REPEAT_UPDATES_PROFILE = False

#: ``delete_robot`` marks the bot invalid: it leaves ``get_all_robots``, stops counting toward the
#: limit, its id still exists (``account_check`` says Imported) and ``create_robot`` revives it with
#: the fields given. Deleting an already-invalid bot answers OK; an id that never was a bot, 10004.
DELETED_BOT_LISTED = False

#: Single ``account_import`` of an existing account answers OK and does NOT overwrite Nick/FaceUrl.
ACCOUNT_IMPORT_REPEAT_UPDATES_PROFILE = False

#: ``multiaccount_import`` with ``AccountList`` DOES update Nick/FaceUrl of existing accounts (2024
#: docs). Failed items are listed in ``FailAccounts`` with the envelope OK; only when every item
#: failed does the envelope carry the first item's error code (e.g. 70398).
MULTIACCOUNT_IMPORT_REPEAT_UPDATES_PROFILE = True

#: ``portrait_get`` of a not-imported account: envelope OK, item ResultCode 40003, id in
#: ``Fail_Account``. Tags never set are left out of ``ProfileItem`` (read a missing tag as empty).
PORTRAIT_GET_OMITS_UNSET_TAGS = True

# UserIDs are compared byte for byte: ``Alice`` and ``alice`` are two accounts (they are the
# store's dict keys as sent).

#: ``account_import`` refuses ordinary ids with these prefixes (70402).
#: (The prefixes themselves live in chatsync.facts.limits.RESERVED_PREFIXES.)
RESERVED_PREFIX_CODE = 70402

#: ``account_delete`` refuses bots (use delete_robot) and App admins, item by item, with 70402.
ACCOUNT_DELETE_REFUSED_CODE = 70402

# Rate limits: a sliding one-second window per API per app; refused calls (60007) do not count
# (chatsync.emulator.ratelimit.SlidingWindow).

#: Free edition: accounts are unlimited unless ``--max-accounts N``. Every existing id counts:
#: ordinary accounts, admins and bots (bots are accounts: create_robot's own table lists 70398),
#: invalid bots too (their id still exists); deleted ordinary accounts stop counting. An import or
#: a new bot that would pass N gets 70398; a revived bot already counts, so it never does.
ACCOUNT_LIMIT_COUNTS_BOTS = True

#: Re-importing a deleted id is allowed unless ``--deletion-lock``; then it gets 70399.
DELETION_LOCK_DEFAULT = False

#: A UserSig issued (``TLS.time``) strictly before a ``kick`` of its identifier gets 70052.
#: This many failed UserSig checks of one identifier within a minute block it for a minute (70050).
SIG_FAILURES_BEFORE_BLOCK = 50
SIG_BLOCK_SECONDS = 60.0

#: ``random`` must be present and an unsigned 32-bit integer (60025 otherwise): the docs list it as
#: a required parameter; a repeated value is accepted (client quirk §9.4).
REQUIRE_RANDOM = True

#: ``create_robot`` answers a Nick, FaceUrl or SelfSignature over 500 bytes with 40601, as its
#: page's error table says (10004 is for a missing or malformed field). The page lists 40006 (an
#: internal error while setting the profile) too: it is one of the robot APIs' injected faults.
CREATE_ROBOT_VALUE_TOO_LONG_CODE = 40601

#: A body that is JSON but not an object (``null``, ``5``, ``"x"``, ``[...]``) is 60003 on every
#: API, as for a body that is not JSON (docs/tencent-api.md §1.1: the body is a JSON object;
#: §1.5: 60003), never the API's own invalid-parameter code; ``get_all_robots`` alone also takes
#: ``[]`` and an empty body (client quirk §9.6).
#: A JSON body that holds a lone UTF-16 surrogate (``"\\ud800"``) is not Unicode text: 60003.
#: So is any body Python's parser refuses: nested too deeply (at any depth the emulator cannot
#: parse), ``NaN``/``Infinity`` (not JSON), an integer of more than 4,300 digits. 70500 is only
#: ever the emulator's own fault (a bug, or a state file it cannot write) or an injected fault of
#: the account APIs; never the answer to a malformed request.
#: A malformed number in the query (``sdkappid``, ``random``: not ASCII digits, or too long for
#: its range) is 60025, like any other wrong query parameter.

#: Profile tags: the standard tags of §6.3 with their types; custom tags exist only for the keys
#: given with ``--custom-field KEY`` (string values of at most 500 bytes); any other tag is 40009.
#: A wrong JSON type is 40610, a string over 500 bytes 40601, any other refused value (an enum
#: outside its values, a uint32 out of range, a Location over its 16 bytes) 40605
#: (chatsync.emulator.profile_rules).

#: Durability (with ``--state``): an OK answer means the change is on disk, fsynced (unless
#: ``--no-fsync``). A change that cannot be saved is rolled back in memory and answered 70500 (a
#: transient code: the client's retry applies it again); a request that only read state not yet on
#: disk waits for it, and gets 70500 too if that state is rolled back (no dirty reads).
STATE_WRITE_FAILED_CODE = 70500

#: Check order at the gateway: path (60009) -> query (60012/60025) -> app (70020) -> UserSig (70xxx)
#: -> admin (60010) -> rate (60007) -> body JSON (60003) -> API logic.

# -- groups (docs/tencent-api.md §10.22; chatsync.emulator.groups) --------------------------------

#: ``get_appid_group_list``'s ``Next`` is this plus the Seq of the page's last group: always above
#: 2**32, so a client that reads it as a 32-bit integer fails at once. A ``Next`` the listing never
#: gave (0 < Next <= base, or past the newest group) is 10004.
GROUP_LIST_CURSOR_BASE = 2**32

#: A Community's member cursor (``get_group_member_info`` ``Next``) is this prefix and an offset;
#: the first call sends ``""`` (``"0"`` and ``0`` are accepted too), the last page answers ``""``.
MEMBER_CURSOR_PREFIX = "m"

#: Upper bounds, in bytes, of a member's entry in an answer (its fixed fields; plus its NameCard
#: and its custom data when they are asked for) and of a group's (plus its custom data): an answer
#: that might pass 1 MB is measured, and refused with 10018 if it does.
MEMBER_ENTRY_BOUND = 320
NAME_CARD_BOUND = 320
MEMBER_DATA_BOUND = 2200
GROUP_ENTRY_BOUND = 8192
GROUP_DATA_BOUND = 33_000

# The edition's member cap per group (``MaxMemberCount`` past it is 10004; the default of a new
# group) is ``EmulatorConfig.group_member_cap``, 2000 unless set (§10.21).
