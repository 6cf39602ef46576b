"""The public entry: read config files and directories into one checked :class:`DesiredState`.

``load(paths)`` expands directories (their ``*.yaml`` / ``*.yml``, in name order), reads every file
(:mod:`~chatsync.config.yaml_loader`), checks it against the schema (:mod:`~chatsync.config.schema`)
and the semantic rules (:mod:`~chatsync.config.semantic`), then applies the rules that span files:
exactly one ``app``, each id declared once, at most 20 present bots. It collects every problem of
every file and raises one :class:`ConfigError` listing them all; no other exception escapes.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatsync.config import hints, schema, semantic
from chatsync.config.errors import ConfigError, Problem
from chatsync.config.yaml_loader import Document, YList, YMap, location, read_text
from chatsync.model import (
    DEFAULT_MAX_DELETES,
    DEFAULT_SECRET_KEY_ENV,
    PROFILE_FIELDS,
    AppConfig,
    DesiredState,
    Location,
    Principal,
)
from chatsync.tencent.limits import DEFAULT_ADMIN, MAX_BOTS
from chatsync.tencent.regions import DEFAULT_REGION

DEFAULT_PATH = "chatsync.yaml"
SUFFIXES = (".yaml", ".yml")


def load(paths: Sequence[str | os.PathLike[str]] = ()) -> DesiredState:
    """Read and check the config at ``paths`` (default ``chatsync.yaml``).

    Raises :class:`ConfigError` carrying every problem found, each located in its file.
    """
    collecting = gc.isenabled()
    gc.disable()  # loading builds many small objects and no cycles: the cyclic GC only slows it
    try:
        return _load(paths)
    finally:
        if collecting:
            gc.enable()


def _load(paths: Sequence[str | os.PathLike[str]]) -> DesiredState:
    problems: list[Problem] = []
    files = expand(paths, problems)
    documents: list[Document] = []
    unreadable = False
    for file in files:
        root, found = _read(file)
        problems.extend(found)
        if root is None:
            unreadable = True
        else:
            documents.append(Document(file, root))
    try:
        state = _assemble(documents, files, problems, unreadable)
    except (RecursionError, ValueError, TypeError) as exc:  # pragma: no cover - defensive
        problems.append(_internal(files[0] if files else DEFAULT_PATH, exc))
        state = None
    if problems or state is None:
        raise ConfigError(problems)
    return state


def expand(paths: Sequence[str | os.PathLike[str]], problems: list[Problem]) -> list[str]:
    """The files ``paths`` name, as the user wrote them; directories give their YAML files."""
    given = [os.fspath(p) for p in paths] or [DEFAULT_PATH]
    default = not paths
    files: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        real = os.path.realpath(name)
        if real not in seen:
            seen.add(real)
            files.append(name)

    for name in given:
        path = Path(name)
        try:
            if path.is_dir():
                children = sorted(
                    child.name
                    for child in path.iterdir()
                    if child.suffix.lower() in SUFFIXES and not child.name.startswith(".") and child.is_file()
                )
                if not children:
                    problems.append(
                        Problem(
                            Location(name, 0, 0),
                            "no *.yaml or *.yml files in this directory; pass the directory "
                            "that holds the config files",
                        )
                    )
                for child in children:
                    add(os.path.join(name, child))
            elif path.exists():
                add(name)
            elif default:
                problems.append(
                    Problem(
                        Location(name, 0, 0),
                        "no such file; pass the config path, e.g. chatsync validate config/",
                    )
                )
            else:
                problems.append(Problem(Location(name, 0, 0), "no such file or directory; check the path"))
        except OSError as exc:
            problems.append(Problem(Location(name, 0, 0), _os_message(exc)))
    return files


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"cannot read it ({reason}); check that it exists and that you may read it"


def _internal(file: str, exc: BaseException) -> Problem:
    return Problem(
        Location(file, 1, 1),
        f"chatsync could not check this file ({type(exc).__name__}: {exc}); please report this as a bug",
    )


def _read(file: str) -> tuple[YMap | None, list[Problem]]:
    try:
        data = Path(file).read_bytes()
    except IsADirectoryError:
        return None, [Problem(Location(file, 0, 0), "is a directory, not a file; pass a file")]
    except OSError as exc:
        return None, [Problem(Location(file, 0, 0), _os_message(exc))]
    try:
        root, problems = read_text(file, data)
        if root is not None:
            problems = [*problems, *schema.check(file, root), *semantic.check_file(file, root)]
        return root, problems
    except RecursionError:
        return None, [
            Problem(
                Location(file, 1, 1),
                "the file is nested too deeply (through aliases); simplify it",
            )
        ]
    except Exception as exc:  # never let a bug become a traceback; say it is one
        return None, [_internal(file, exc)]


# -- rules across files ----------------------------------------------------------------------


def _assemble(
    documents: list[Document], files: list[str], problems: list[Problem], unreadable: bool
) -> DesiredState | None:
    app_entry = _one_app(documents, files, problems, unreadable)
    bots: dict[str, Principal] = {}
    accounts: dict[str, Principal] = {}
    for document in documents:
        for section, declared in (("bots", bots), ("accounts", accounts)):
            _collect(document, section, declared, problems)
    _bot_limit(documents, bots, problems)
    if app_entry is None:
        return None
    app = _app_config(*app_entry)
    for principal in (*bots.values(), *accounts.values()):
        if not principal.present and principal.user_id in app.protected_ids:
            reason = (
                "it is the app admin" if principal.user_id == app.admin else ("it is listed in app.protected")
            )
            assert principal.location is not None
            problems.append(
                Problem(
                    principal.location,
                    f"{principal.kind} {hints.quote(principal.user_id)} is state: absent but "
                    f"chatsync never deletes it ({reason}); remove one of the two",
                )
            )
    return DesiredState(app=app, bots=bots, accounts=accounts, sources=tuple(files))


def _one_app(
    documents: list[Document], files: list[str], problems: list[Problem], unreadable: bool
) -> tuple[str, YMap] | None:
    found = [(doc.file, doc.root) for doc in documents if "app" in doc.root]
    if not found:
        if files and not unreadable:
            problems.append(
                Problem(
                    Location(files[0], 1, 1),
                    f"no app: section in {', '.join(files)}; add one (with at least sdkappid) "
                    "to exactly one file",
                )
            )
        return None
    first_file, first_root = found[0]
    first = location(first_file, first_root.meta["app"].key_mark)
    for file, root in found[1:]:
        problems.append(
            Problem(
                location(file, root.meta["app"].key_mark),
                f"a second app: section; the first is at {first}; keep exactly one app: "
                "section across all files",
            )
        )
    app = first_root["app"]
    if not isinstance(app, YMap):
        return None
    return first_file, first_root


def _collect(
    document: Document, section: str, declared: dict[str, Principal], problems: list[Problem]
) -> None:
    entries = document.root.get(section)
    if not isinstance(entries, YMap):
        return
    kind = "bot" if section == "bots" else "account"
    for user_id, body in entries.items():
        here = location(document.file, entries.meta[user_id].key_mark)
        previous = declared.get(user_id)
        if previous is not None:
            problems.append(
                Problem(
                    here,
                    f"{kind} {hints.quote(user_id)} is already declared at {previous.location}; "
                    "declare each id once",
                )
            )
            continue
        fields: dict[str, str] = {}
        state = "present"
        if isinstance(body, YMap):
            fields = {k: v for k, v in body.items() if k in PROFILE_FIELDS and isinstance(v, str)}
            if body.get("state") == "absent":
                state = "absent"
        declared[user_id] = Principal(kind, user_id, fields, state, here)  # type: ignore[arg-type]


def _bot_limit(documents: list[Document], bots: dict[str, Principal], problems: list[Problem]) -> None:
    present = [bot for bot in bots.values() if bot.present]
    if len(present) <= MAX_BOTS:
        return
    extra = present[MAX_BOTS]
    assert extra.location is not None
    file = extra.location.file
    root = next(doc.root for doc in documents if doc.file == file)
    problems.append(
        Problem(
            location(file, root.meta["bots"].key_mark),
            f"{len(present)} bots are declared present (the {MAX_BOTS + 1}st is "
            f"{hints.quote(extra.user_id)}); an app can have at most {MAX_BOTS} bots: remove "
            "some or mark them state: absent",
        )
    )


def _app_config(file: str, root: YMap) -> AppConfig:
    app: YMap = root["app"]

    def get(name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = app.get(name, default)
        if isinstance(value, bool) and kind is not bool:
            return default
        return value if isinstance(value, kind) else default

    protected = app.get("protected")
    rates = app.get("rate_limits")
    return AppConfig(
        sdkappid=get("sdkappid", int, 0),
        region=get("region", str, DEFAULT_REGION),
        endpoint=get("endpoint", str, None),
        admin=get("admin", str, DEFAULT_ADMIN),
        secret_key_env=get("secret_key_env", str, DEFAULT_SECRET_KEY_ENV),
        prune_bots=get("prune_bots", bool, False),
        protected=tuple(p for p in protected if isinstance(p, str)) if isinstance(protected, YList) else (),
        max_deletes=get("max_deletes", int, DEFAULT_MAX_DELETES),
        rates={k: v for k, v in rates.items() if isinstance(v, int)} if isinstance(rates, YMap) else {},
        location=location(file, root.meta["app"].key_mark),
    )
