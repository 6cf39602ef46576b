"""A local emulator of the Tencent Cloud Chat REST API (v4), for tests, demos and users' CI.

Layers, each in its own module:

* :mod:`.stance` - what the emulator does where Tencent's docs are silent (one place);
* :mod:`.store` - the app's data (accounts, bots, profiles) and its durable persistence (an OK
  means on disk; a failed write is rolled back), with the strict check of the state file;
* :mod:`.profile_rules` - which profile tags the app knows and which values each accepts;
* :mod:`.handlers` - the API logic of each endpoint, pure functions over the store;
* :mod:`.ratelimit`, :mod:`.faults` - per-API rate limits and injected failures;
* :mod:`.gateway` - :class:`Emulator`: a request in, an :class:`Outcome` out (URL, UserSig,
  admin, rate, body checks in the real gateway's order, then the handler);
* :mod:`.server` (real HTTP on loopback) and :mod:`.transport` (httpx, in process) - two fronts.
"""

from chatsync.emulator.gateway import Emulator, EmulatorConfig, Outcome

__all__ = ["Emulator", "EmulatorConfig", "Outcome"]
