"""chatsync from Python: load a config, plan, apply, save and read plans (the CLI is a shell over it).

Every function here is also reachable as ``chatsync.<name>`` (see :data:`chatsync.__all__`)::

    desired = chatsync.load("chatsync.yaml")
    planned = chatsync.plan(desired)            # reads the live app; sealed with the app's key
    print(chatsync.render(planned, "text"))
    report = chatsync.apply(planned)            # checks it is safe and still current, then applies
    assert report.ok

The secret key comes from the environment variable the config names (``app.secret_key_env``,
default ``CHATSYNC_SECRET_KEY``) unless ``secret_key=`` is given; ``environ=`` replaces
``os.environ`` (for ``CHATSYNC_ENDPOINT`` and proxy settings too). Errors a user can act on are
:class:`~chatsync.errors.ChatsyncError` (a config's are :class:`~chatsync.config.ConfigError`,
with every located problem); their text is what the CLI prints.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from chatsync.config import load as load_config
from chatsync.config.prescan import key_variable
from chatsync.domain.model import DEFAULT_SECRET_KEY_ENV, AppConfig, DesiredState
from chatsync.domain.plan import Plan
from chatsync.domain.report import Report
from chatsync.engine import plan as planner
from chatsync.engine.planfile import open_sealed, open_unsealed
from chatsync.engine.prefetch import Prefetch
from chatsync.engine.read import LiveReader
from chatsync.errors import ApplyRefused, StalePlan, UnsafePlan
from chatsync.render import json_plan
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import DEFAULT_PARALLELISM, Client
from chatsync.tencent.credentials import secret_key_from_env
from chatsync.tencent.target import ENDPOINT_ENV
from chatsync.text.redact import redact_url

if TYPE_CHECKING:  # loaded by apply and export when they run: a plan loads neither
    from chatsync.engine.export import Export


def load(*paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
         follow_symlinks: bool = False) -> DesiredState:
    """Read and check the config files or directories ``paths`` (default ``chatsync.yaml``), given
    one by one or as a list: ``load("bots.yaml", "app.yaml")`` or ``load(["envs/prod"])``. A
    symbolic link that leads outside the directories given is refused unless ``follow_symlinks``.

    Raises :class:`~chatsync.config.ConfigError` listing every problem, each with its location.
    """
    flat: list[str | os.PathLike[str]] = []
    for path in paths:
        if isinstance(path, (str, os.PathLike)):
            flat.append(path)
        else:
            flat.extend(path)
    return load_config(flat, follow_symlinks=follow_symlinks)


def _environ(app: AppConfig, secret_key: str | None, environ: Mapping[str, str] | None) -> Mapping[str, str]:
    base = os.environ if environ is None else environ
    return base if secret_key is None else {**base, app.secret_key_env: secret_key}


@contextmanager
def connect(app: AppConfig, *, secret_key: str | None = None, environ: Mapping[str, str] | None = None,
            parallelism: int = DEFAULT_PARALLELISM) -> Iterator[ChatApi]:
    """A :class:`~chatsync.tencent.api.ChatApi` for ``app``, closed on the way out (calls not yet
    sent are dropped and calls in flight cut when the block raises)."""
    client = Client.for_app(app, _environ(app, secret_key, environ), parallelism=parallelism)
    try:
        yield ChatApi(client)
    except BaseException:
        client.abort()
        raise
    finally:
        client.close()


@dataclasses.dataclass
class Loaded:
    """A loaded config, a connection to its app, and the reads already going (None when none
    started early: then :func:`plan_with` reads everything)."""

    desired: DesiredState
    api: ChatApi
    reader: LiveReader | None


@contextmanager
def load_connected(paths: Sequence[str | os.PathLike[str]], *, secret_key: str | None = None,
                   environ: Mapping[str, str] | None = None, parallelism: int = DEFAULT_PARALLELISM,
                   follow_symlinks: bool = False) -> Iterator[Loaded]:
    """Load the config at ``paths`` and connect to its app, reading the live app while the config
    is still loading (:mod:`chatsync.engine.prefetch`): pass the result's ``reader`` to :func:`plan_with`.
    Raises :class:`~chatsync.config.ConfigError` as :func:`load` does (the early reads are then
    dropped); the connection is closed on the way out, as :func:`connect` closes it. A missing key
    fails first, before the config is read (:func:`check_key`)."""
    if secret_key is None:
        check_key(paths, environ=environ, follow_symlinks=follow_symlinks)
    with ExitStack() as stack:
        def connect_to(app: AppConfig) -> ChatApi:
            return stack.enter_context(connect(app, secret_key=secret_key, environ=environ,
                                               parallelism=parallelism))

        prefetch = Prefetch(connect_to)
        desired = load_config(paths, listener=prefetch, follow_symlinks=follow_symlinks)
        reader = prefetch.reader_for(desired)
        api = prefetch.api if reader is not None and prefetch.api is not None else connect_to(desired.app)
        yield Loaded(desired, api, reader)


def check_key(paths: Sequence[str | os.PathLike[str]], *, environ: Mapping[str, str] | None = None,
              follow_symlinks: bool = False) -> None:
    """Raise the error a missing or blank key gives, before the config at ``paths`` is read: the
    variable is the one its ``app:`` section names, found by a scan of the files
    (:mod:`chatsync.config.prescan`). When the scan cannot tell, nothing is checked here (the key is
    checked when the app is connected to, after loading)."""
    variable = key_variable(paths, follow_symlinks=follow_symlinks)
    if variable is not None:
        secret_key_from_env(variable, os.environ if environ is None else environ)


def plan(desired: DesiredState, *, secret_key: str | None = None, environ: Mapping[str, str] | None = None,
         parallelism: int = DEFAULT_PARALLELISM, notify: bool = False) -> Plan:
    """Read the live app (read-only, batched) and return the plan that makes it match ``desired``,
    sealed with the app's secret key so it can be saved (:func:`save_plan`) and applied later.
    With ``notify``, the members it adds to groups are announced, as ``notify: true`` on every
    group would have them (``plan --notify``); the plan carries it, per change."""
    with connect(desired.app, secret_key=secret_key, environ=environ, parallelism=parallelism) as api:
        return plan_with(api, desired, notify=notify)


def plan_with(api: ChatApi, desired: DesiredState, *, seal: bool = True,
              reader: LiveReader | None = None, notify: bool = False) -> Plan:
    """:func:`plan` through an open connection (the CLI shows progress around it); ``seal`` it
    (an HMAC with the app's key) when it may be saved for ``apply --plan``. ``reader`` is one that
    started reading while the config loaded (:func:`load_connected`)."""
    result = planner.plan(api, desired, api.client.target.url, reader, notify=notify)
    if seal:
        result.sign(api.client.sigs.secret_key)
    return result


def check_applicable(result: Plan, force: bool = False) -> None:
    """Raise :class:`UnsafePlan` for a plan with errors, or an unsafe one without ``force``."""
    if result.errors:
        raise UnsafePlan(f"the plan cannot be applied: {result.errors[0]}")
    if not result.safe and not force:
        raise UnsafePlan(f"the plan is unsafe: {result.unsafe_reasons[0]}")


def apply(planned: Plan, *, force: bool = False, check_current: bool = True, secret_key: str | None = None,
          key_variable: str | None = None, environ: Mapping[str, str] | None = None,
          parallelism: int = DEFAULT_PARALLELISM) -> Report:
    """Apply ``planned`` and return the :class:`~chatsync.engine.apply.Report` of every change.

    First :func:`check_applicable` (``force`` accepts an unsafe plan, never one with errors), then,
    with ``check_current``, the stale check (:class:`StalePlan` when the live app changed since the
    plan was made other than by this plan's own changes): a plan stopped part way, or applied
    before, resumes, its changes already made reported ``already done`` with nothing sent
    (:func:`chatsync.engine.plan.recheck`). Failed changes fail alone: look at ``report.ok`` and
    ``report.outcomes``.
    The key signs the calls: ``secret_key``, else the variable ``key_variable``, else the one the
    plan names (pass ``key_variable`` for a plan read from a file: never trust the file's choice).
    """
    check_applicable(planned, force)
    app = planned.app
    if key_variable is not None:
        app = dataclasses.replace(app, secret_key_env=key_variable)
    with connect(app, secret_key=secret_key, environ=environ, parallelism=parallelism) as api:
        resume = None
        if check_current:
            resume = planner.recheck(api, planned)
            if resume.stale:
                raise StalePlan(resume.stale)
        from chatsync.engine.apply import Applier

        return Applier(api, planned, resume).run()


def export(desired: DesiredState, account_ids: Iterable[str] = (), *, group_ids: Iterable[str] | None = None,
           secret_key: str | None = None, environ: Mapping[str, str] | None = None,
           parallelism: int = DEFAULT_PARALLELISM, fields: Sequence[str] | None = None,
           all_fields: bool = False, with_app: bool = True) -> Export:
    """The live app as a config: every live bot, the accounts ``desired`` declares or
    ``account_ids`` names that exist, and, for a config that manages groups (declares one, or
    prunes them), every live group with the accounts it names; ``group_ids`` exports the groups
    ``desired`` declares and these instead of every live one. The fields written are those that
    hold a value (every field with ``all_fields``; ``fields`` picks which, standard names or
    ``custom.Key``). Without ``with_app`` the ``app:`` section is left out, to plan beside your
    own. ``.text`` is the YAML; ``.left_out`` lists the named objects that could not be exported
    (each a ``(kind, object_id, why)`` named tuple). For an app with no config yet, pass
    ``DesiredState(AppConfig(sdkappid, region=...))``."""
    named = {"account": account_ids, **({"group": group_ids} if group_ids is not None else {})}
    with connect(desired.app, secret_key=secret_key, environ=environ, parallelism=parallelism) as api:
        return export_with(api, desired, named, fields=fields, all_fields=all_fields, with_app=with_app)


def export_with(api: ChatApi, desired: DesiredState, named: Mapping[str, Iterable[str]] | None = None, *,
                fields: Sequence[str] | None = None, all_fields: bool = False,
                with_app: bool = True) -> Export:
    """:func:`export` through an open connection (the CLI shows progress around it); ``named`` gives
    the ids to export beside those ``desired`` declares, by kind name
    (:func:`chatsync.engine.export.choose`)."""
    from chatsync.engine.export import export as export_live

    return export_live(api, desired, named, fields=fields, all_fields=all_fields, with_app=with_app)


def save_plan(planned: Plan, path: str | os.PathLike[str]) -> None:
    """Write ``planned`` as the JSON file ``chatsync apply --plan`` and :func:`read_plan` read."""
    Path(path).write_text(json_plan.render(planned), encoding="utf-8")


def read_plan(path: str | os.PathLike[str], *, secret_key: str | None = None,
              key_variable: str = DEFAULT_SECRET_KEY_ENV, environ: Mapping[str, str] | None = None,
              sealed: bool = True, key_option: str = "the key_variable argument") -> Plan:
    """The plan saved at ``path``, ready for :func:`apply`: its seal checked with ``secret_key`` (or
    the key in the variable ``key_variable``; never one the file names), consistent, its safety
    worked out again, and made for the endpoint ``CHATSYNC_ENDPOINT`` names, if set. With
    ``sealed=False`` the seal is not checked (for showing a plan; never apply such a one).
    ``key_option`` is what names another variable, for the error when ``key_variable`` is unset
    (the CLI's ``--secret-key-env NAME``).
    """
    source = os.fspath(path)
    environ = os.environ if environ is None else environ
    if not sealed:
        return open_unsealed(source)
    key = secret_key if secret_key is not None else secret_key_from_env(key_variable, environ, key_option)
    saved = open_sealed(source, key, key_variable if secret_key is None else "the secret_key argument")
    override = environ.get(ENDPOINT_ENV)
    if override and override.rstrip("/") != saved.endpoint:
        raise ApplyRefused(f"the plan was made for {redact_url(saved.endpoint)}, but {ENDPOINT_ENV} is "
                           f"{redact_url(override)}; unset {ENDPOINT_ENV} or make a new plan")
    return saved
