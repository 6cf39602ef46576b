"""``chatsync emulator``: serve the local stand-in for the Chat REST API until stopped."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chatsync.errors import ChatsyncError
from chatsync.facts import limits, profile_tags
from chatsync.facts.network import is_loopback

if TYPE_CHECKING:
    from chatsync.emulator.server import EmulatorHTTPServer

EPILOG = """\b
Examples:
  export CHATSYNC_SECRET_KEY=$(openssl rand -hex 32)
  chatsync emulator --port 8080
  chatsync emulator --port 0 --state app.json --fault-rate 0.2 --seed 7
\b
Point chatsync at it with app.endpoint (or CHATSYNC_ENDPOINT=http://127.0.0.1:8080) and the
same secret key; any SDK works with base URL http://127.0.0.1:8080 instead of the region domain.
\b
As a service (the defaults; see chatsync/emulator/server.py):
  - a whole request head must arrive within 10 s of the connection or of
    the previous answer: an idle keep-alive connection is closed after 10 s,
    a head begun but not finished gets 408; a body must arrive within 30 s
    of its head; an answer must be taken within 10 s;
  - at most --max-connections open connections; at the limit a new one
    closes the longest-idle connection, or, when none is idle, gets 503;
    one line per second at most on stderr says how many;
  - request line at most 16 KiB (414); header lines 16 KiB, the head
    64 KiB and 100 fields (431); a header line without a colon, two
    Content-Length headers, or Content-Length with Transfer-Encoding: 400,
    and the connection is closed; bodies at most 16 MiB (413);
  - --state may be a symlink: it is kept, and the file it leads to is
    replaced on each write; temp files of a save cut by kill -9
    (.NAME.XXXXXXXX.tmp beside it) are removed at the next start.
\b
Exit codes: 0 after SIGINT or SIGTERM; 1 a start-up error or a usage error.
"""


def _not_nan(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and math.isnan(value):
        raise click.BadParameter("must be a number, not nan")
    return value


@click.command(epilog=EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes the emulator (warns).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free one (printed on the first line).")
@click.option("--sdkappid", default=1400000000, show_default=True, type=click.IntRange(1),
              help="The SDKAppID the emulated app answers to.")
@click.option("--admin", "admins", multiple=True, default=(limits.DEFAULT_ADMIN,), show_default=True,
              help="An App admin UserID (repeat for several; the real limit is 10).")
@click.option("--secret-key-env", default="CHATSYNC_SECRET_KEY", show_default=True,
              help="NAME of the environment variable holding the app's secret key.")
@click.option("--state", "state_path", type=click.Path(path_type=Path),
              help="JSON file to load the app from and save it to after every change "
                   "(an OK answer means the change is on disk).")
@click.option("--seed-state", "seed_state", type=click.Path(path_type=Path),
              help="A state file (as --state writes) to start from; it is only read. With --state, "
                   "used when that file does not exist yet.")
@click.option("--no-fsync", is_flag=True,
              help="With --state: do not fsync each write (faster; an OK then survives a killed "
                   "emulator but not a power cut).")
@click.option("--custom-field", "custom_fields", multiple=True, metavar="KEY",
              help="A custom profile field the app has configured: Tag_Profile_Custom_KEY is then "
                   "accepted (repeat for several; KEY is 1-8 English letters).")
@click.option("--max-bots", default=limits.MAX_BOTS, show_default=True, type=click.IntRange(0),
              help="Active bots allowed per app (create_robot past it gets 10008).")
@click.option("--max-accounts", type=click.IntRange(0),
              help="Account limit of a free edition (import past it gets 70398). Default: none.")
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(0), callback=_not_nan,
              help="Delay every answer by this many milliseconds.")
@click.option("--fault-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1), callback=_not_nan,
              help="Fraction of calls that fail: transient codes, HTTP 502, dropped connections, "
                   "some after the change was applied.")
@click.option("--seed", type=int, help="Seed for reproducible faults.")
@click.option("--rate-limit-scale", default=1.0, show_default=True,
              type=click.FloatRange(0, min_open=True), callback=_not_nan,
              help="Multiply every per-API rate limit ('inf' turns them off).")
@click.option("--deletion-lock", is_flag=True,
              help="Paid-edition behaviour: a deleted account id cannot be re-imported (70399).")
@click.option("--deny-account-delete", is_flag=True,
              help="Paid-edition default: account_delete is not enabled (71000).")
@click.option("--max-connections", type=click.IntRange(1), metavar="N",
              help="Open connections served at once. Default: half the open-file limit "
                   "(ulimit -n), at most 1000.")
@click.option("--access-log", is_flag=True,
              help="Log each call (endpoint, status, code, time) to stderr; never the UserSig.")
def emulator(host: str, port: int, sdkappid: int, admins: tuple[str, ...], secret_key_env: str,
             state_path: Path | None, seed_state: Path | None, max_bots: int, max_accounts: int | None,
             latency_ms: float,
             fault_rate: float, seed: int | None, rate_limit_scale: float, deletion_lock: bool,
             deny_account_delete: bool, access_log: bool, no_fsync: bool,
             custom_fields: tuple[str, ...], max_connections: int | None) -> None:
    """Run a local emulator of the Tencent Cloud Chat REST API (v4).

    It verifies UserSigs made with the secret key in $CHATSYNC_SECRET_KEY (see
    --secret-key-env), enforces the documented limits, error codes and per-API rate limits,
    and can inject the faults the real service shows. Stop it with Ctrl-C or SIGTERM.
    """
    from chatsync.emulator.gateway import Emulator, EmulatorConfig
    from chatsync.emulator.server import EmulatorHTTPServer, max_connections_problem

    secret_key = os.environ.get(secret_key_env, "")
    if not secret_key:
        raise ChatsyncError(
            f"the environment variable {secret_key_env} is not set; export the app's secret key "
            f"in it (any string for local use), or name another variable with --secret-key-env"
        )
    for admin in admins:
        problem = limits.user_id_problem(admin)
        if not problem and limits.reserved_prefix(admin):
            problem = f"starts with {limits.reserved_prefix(admin)}, which only bots or the server use"
        if problem:
            raise ChatsyncError(f"--admin {admin!r} {problem}")
    for key in custom_fields:
        problem = profile_tags.custom_key_problem(key)
        if problem:
            raise ChatsyncError(f"--custom-field {key!r} {problem} (give the key without "
                                f"{profile_tags.CUSTOM_PREFIX})")
    if max_connections is not None and (problem := max_connections_problem(max_connections)):
        raise ChatsyncError(f"--max-connections {max_connections} {problem}")
    config = EmulatorConfig(
        secret_key=secret_key, sdkappid=sdkappid, admins=tuple(admins), state_path=state_path,
        seed_state=seed_state,
        max_bots=max_bots, max_accounts=max_accounts, latency_ms=latency_ms,
        fault_rate=fault_rate, seed=seed, rate_limit_scale=rate_limit_scale,
        deletion_lock=deletion_lock, allow_account_delete=not deny_account_delete,
        custom_fields=tuple(dict.fromkeys(custom_fields)), fsync=not no_fsync,
    )
    app = Emulator(config)
    try:
        server = EmulatorHTTPServer(app, host, port, access_log=access_log,
                                    max_connections=max_connections)
    except OSError as exc:
        raise ChatsyncError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port (0 = any free)"
        ) from None
    if access_log:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}, not loopback: anyone who can reach it can use this "
            "emulator. Use --host 127.0.0.1 unless you mean it.", err=True,
        )
    click.echo(f"chatsync emulator listening on {server.url}")
    sys.stdout.flush()
    if fault_rate > 0:
        click.echo(f"Injecting faults into {fault_rate:.0%} of calls with seed {app.faults.seed} "
                   f"(--seed {app.faults.seed} replays them).", err=True)
    _serve_until_signal(server)
    app.close()
    click.echo("chatsync emulator stopped", err=True)


def _serve_until_signal(server: EmulatorHTTPServer) -> None:
    """Serve on a thread until SIGINT or SIGTERM, then shut down cleanly."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
