"""``chatsync export``: write the live app as a config file (to adopt an existing app)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chatsync.cli.common import (
    call_rate,
    connected,
    follow_symlinks_option,
    parallelism_option,
    progress,
    write_atomically,
)
from chatsync.cli.tuning import no_cyclic_gc
from chatsync.errors import ChatsyncError
from chatsync.facts.fields import STANDARD, custom_key_problem
from chatsync.facts.limits import DEFAULT_ADMIN, user_id_problem
from chatsync.facts.regions import DEFAULT_REGION, REGIONS
from chatsync.text.safe import quoted

if TYPE_CHECKING:  # loaded when the command runs: `export --help` needs neither the model nor YAML
    from chatsync.domain.model import AppConfig
    from chatsync.engine.export import LeftOut

#: The config read when no PATHS are given (chatsync.config.DEFAULT_PATH).
DEFAULT_PATH = "chatsync.yaml"
#: The variable holding the key when none is named (chatsync.domain.model.DEFAULT_SECRET_KEY_ENV).
DEFAULT_SECRET_KEY_ENV = "CHATSYNC_SECRET_KEY"

EPILOG = """\b
Examples:
  chatsync export --out live.yaml                       # bots + accounts named in chatsync.yaml
  chatsync export envs/prod --accounts-file ids.txt     # also the ids listed one per line
  chatsync export --groups-file groups.txt              # these groups, not every live one
\b
Adopt an app with no config yet (docs/adopting.md):
  chatsync export --sdkappid 1400000000 --region singapore --accounts-file ids.txt \\
      --no-app --out accounts.yaml                      # then: chatsync plan app.yaml accounts.yaml
\b
The API cannot list accounts: name them, in the config or in --accounts-file (every live bot is
exported). A config that declares groups (or prunes them) exports every live group, with the
accounts each names; --groups-file exports only the groups the config declares and those the
file lists (it works with --sdkappid too). By default only the fields that hold a value are
written (a field left out stays unmanaged); --all-fields writes every field, --fields
nick,face_url only those. With no config the key comes from CHATSYNC_SECRET_KEY (or the
variable --secret-key-env names) and the endpoint from --region, --endpoint or CHATSYNC_ENDPOINT.
\b
Exit codes: 0 every named account and group exported; 1 an error (a usage error too), or a named
account or group that could not be exported (each is listed on stderr with why; --skip-missing
makes that no error).
"""

#: Left-out accounts listed one by one on stderr; the rest are counted.
SHOW_LEFT_OUT = 20
#: The flags that describe an app when there is no config.
APP_FLAGS = ("--region", "--endpoint", "--admin", "--secret-key-env", "--custom-field")


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--sdkappid", type=click.IntRange(1, 2**32 - 1),
              help="Export this app with no config (then PATHS are not given): its SDKAppID.")
@click.option("--region", type=click.Choice(list(REGIONS)),
              help=f"With --sdkappid: the app's data centre (default {DEFAULT_REGION}).")
@click.option("--endpoint", metavar="URL", help="With --sdkappid: a base URL instead of --region.")
@click.option("--admin", metavar="ID", help=f"With --sdkappid: the admin account (default {DEFAULT_ADMIN}).")
@click.option("--secret-key-env", "key_variable", metavar="NAME",
              help=f"With --sdkappid: the variable holding the secret key (default "
                   f"{DEFAULT_SECRET_KEY_ENV}).")
@click.option("--custom-field", "custom_fields", metavar="KEY", multiple=True,
              help="With --sdkappid: a custom profile key the app has configured (repeat for each).")
@click.option("--accounts-file", type=click.Path(dir_okay=False, path_type=str),
              help="Also export these accounts: one UserID per line (blank lines and # comments skipped).")
@click.option("--groups-file", type=click.Path(dir_okay=False, path_type=str),
              help="Export these groups (and those the config declares) instead of every live group: one "
                   "GroupId per line (blank lines and # comments skipped).")
@click.option("--no-app", is_flag=True,
              help="Leave the app: section out: the objects alone, to plan beside your own app file.")
@click.option("--all-fields", is_flag=True,
              help="Write every field, also those that hold no value (they become managed, as empty).")
@click.option("--fields", "field_list", metavar="A,B",
              help="Write only these fields (e.g. nick,face_url or custom.Dept).")
@click.option("--out", "out_file", metavar="FILE",
              help="Write the config here instead of stdout (never one of the input files).")
@click.option("--skip-missing", is_flag=True,
              help="Leave out named accounts and groups that do not exist (or are not their kind's ids) "
                   "without an error.")
@parallelism_option
@follow_symlinks_option
def export(paths: tuple[str, ...], sdkappid: int | None, region: str | None, endpoint: str | None,
           admin: str | None, key_variable: str | None, custom_fields: tuple[str, ...],
           accounts_file: str | None, groups_file: str | None, no_app: bool, all_fields: bool,
           field_list: str | None, out_file: str | None, skip_missing: bool, parallelism: int,
           follow_symlinks: bool) -> None:
    """Write the live app as a config: every live bot, and the accounts named in the config or
    in --accounts-file that exist, with the fields that hold a value. The API cannot list all
    accounts, so accounts must be named."""
    if out_file:
        refuse_overwriting_inputs(out_file, () if sdkappid else paths, accounts_file, groups_file)
    from chatsync.api import check_key, export_with, load  # here, not above: `export --help` needs neither

    if sdkappid is None:
        values = (region, endpoint, admin, key_variable, custom_fields)
        given = [flag for flag, value in zip(APP_FLAGS, values, strict=True) if value]
        if given:
            raise click.UsageError(f"{given[0]} describes an app with no config: it goes with --sdkappid")
        if not paths and not os.path.exists(DEFAULT_PATH):
            raise click.UsageError(f"no {DEFAULT_PATH} here: pass config PATHS, or export an app with no "
                                   "config: --sdkappid N with --region or --endpoint")
        check_key(paths, follow_symlinks=follow_symlinks)  # before a large config is read
        with no_cyclic_gc():
            desired = load(*paths, follow_symlinks=follow_symlinks)
    else:
        if paths:
            raise click.UsageError("--sdkappid exports an app with no config; leave out the config PATHS "
                                   "(or leave out --sdkappid to export the app they declare)")
        from chatsync.domain.model import DesiredState

        app = app_from_flags(sdkappid, region, endpoint, admin, key_variable, custom_fields)
        desired = DesiredState(app=app)
    fields = chosen_fields(field_list, desired.app) if field_list else None
    named = {kind: read_ids(file) for kind, file in (("account", accounts_file), ("group", groups_file))
             if file}
    with connected(desired.app, parallelism) as api, progress("Reading the live app", call_rate(api.client)):
        result = export_with(api, desired, named, fields=fields, all_fields=all_fields, with_app=not no_app)
    if out_file:
        write_atomically(out_file, result.text)
    else:
        click.echo(result.text, nl=False)
    if result.left_out:
        report_left_out(result.left_out, error=not skip_missing)


def app_from_flags(sdkappid: int, region: str | None, endpoint: str | None, admin: str | None,
                   key_variable: str | None, custom_fields: tuple[str, ...]) -> AppConfig:
    """The app ``export --sdkappid`` reads, each flag checked as the config's field would be."""
    from chatsync.config.hints import secret_key_env_problem
    from chatsync.domain.model import AppConfig
    from chatsync.facts.network import endpoint_problem

    if region and endpoint:
        raise click.UsageError("--region and --endpoint both say where the app is; pass one")
    problem = endpoint_problem(endpoint) if endpoint else None
    if problem:
        raise click.UsageError(f"--endpoint: {problem}")
    if admin and user_id_problem(admin):
        raise click.UsageError(f"--admin {quoted(admin)} {user_id_problem(admin)}")
    if key_variable and secret_key_env_problem(key_variable):
        raise click.UsageError(f"--secret-key-env: {secret_key_env_problem(key_variable)}")
    for key in custom_fields:
        if custom_key_problem(key):
            raise click.UsageError(f"--custom-field {quoted(key)} {custom_key_problem(key)}")
    return AppConfig(sdkappid=sdkappid, region=region or DEFAULT_REGION, endpoint=endpoint,
                     admin=admin or DEFAULT_ADMIN, secret_key_env=key_variable or DEFAULT_SECRET_KEY_ENV,
                     custom_fields=tuple(dict.fromkeys(custom_fields)))


def chosen_fields(field_list: str, app: AppConfig) -> list[str]:
    """The fields ``--fields`` names, checked: standard names, or ``custom.Key`` for a listed key."""
    from chatsync.engine.export import exportable

    known = exportable(app)
    chosen = [name.strip() for name in field_list.split(",") if name.strip()]
    for name in chosen:
        if name not in known:
            custom = ", ".join(f"custom.{k}" for k in app.custom_fields) or "none listed"
            raise click.UsageError(f"--fields: unknown field {quoted(name)}; choose from "
                                   f"{', '.join(f.name for f in STANDARD)}, or custom keys ({custom})")
    if not chosen:
        raise click.UsageError("--fields: name at least one field, e.g. --fields nick,face_url")
    return list(dict.fromkeys(chosen))


def refuse_overwriting_inputs(out_file: str, paths: tuple[str, ...], *id_files: str | None) -> None:
    """Refuse an ``--out`` that names one of the files the export reads."""
    from chatsync.config.loader import expand

    inputs = expand(paths, [])
    inputs += [file for file in id_files if file]
    target = os.path.realpath(out_file)
    for name in inputs:
        if os.path.realpath(name) == target:
            raise ChatsyncError(f"--out {out_file} is one of the input files ({name}); write the export "
                                "elsewhere and compare, so the config is not lost")


def report_left_out(left_out: Sequence[LeftOut], *, error: bool) -> None:
    """List the named objects the export left out, and why, on stderr (``account "x" ...``); an
    error unless skipped."""
    from chatsync.domain.kinds import BY_NAME

    counts = Counter(item.kind for item in left_out)
    what = ", ".join(f"{number} named {kind if number == 1 else BY_NAME[kind].section}"
                     for kind, number in counts.items())
    click.echo(f"Left out of the export ({what}):", err=True)
    for item in left_out[:SHOW_LEFT_OUT]:
        click.echo(f"  {item.kind} {quoted(item.object_id)} {item.why}", err=True)
    if len(left_out) > SHOW_LEFT_OUT:
        click.echo(f"  ... and {len(left_out) - SHOW_LEFT_OUT} more", err=True)
    if error:
        noun = next(iter(counts)) if len(counts) == 1 else "object"
        raise ChatsyncError(f"{len(left_out)} named {noun}(s) could not be exported (listed above); the "
                            "export holds the rest. Pass --skip-missing to leave them out without an error")


def read_ids(path: str) -> list[str]:
    """Ids from a file, one per line (blank lines and # comments skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatsyncError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
