"""Facts of the Tencent Cloud Chat REST API (v4): limits, regions, endpoints, error codes, UserSig.

These modules hold what the docs say, once, for the config validator, the client and the emulator.
"""
