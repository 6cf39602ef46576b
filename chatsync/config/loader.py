"""The public entry: read config files and directories into one checked :class:`DesiredState`.

``load(paths)`` expands directories (their ``*.yaml`` / ``*.yml``, in name order), reads every file
(:mod:`~chatsync.config.yaml_loader`), checks it against the schema (:mod:`~chatsync.config.schema`)
and the semantic rules (:mod:`~chatsync.config.semantic`), then applies the rules that span files:
exactly one ``app``, each id declared once, at most 20 present bots. It collects every problem of
every file and raises one :class:`ConfigError` listing them all; no other exception escapes.

Files are checked as they are read: each entry of ``bots:`` and ``accounts:`` that passes every
check of its own becomes a :class:`Principal` at once and its parsed body is dropped, so a large
file is never held whole (only entries with a problem wait for the whole-file checks, which word
the message). A :class:`Listener` hears of the ``app:`` section and of each such principal as soon
as it is made: a plan starts reading the live app while the rest of the config is still loading
(:mod:`chatsync.engine.prefetch`). It must not act on them beyond reading: the load may still fail.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from typing import Any, Protocol

from chatsync.config import checks, hints, overlays, schema, semantic
from chatsync.config.kinds import checks_of
from chatsync.config.yaml_loader import Document, YList, YMap, location, read_text
from chatsync.domain.kinds import BY_NAME as KIND_BY_NAME
from chatsync.domain.kinds import BY_SECTION, KINDS, Kind
from chatsync.domain.model import (
    DEFAULT_MAX_DELETES,
    DEFAULT_SECRET_KEY_ENV,
    AppConfig,
    DesiredState,
    Principal,
)
from chatsync.domain.origins import Origins
from chatsync.errors import ConfigError, Location, Problem
from chatsync.facts.fields import BY_NAME, CUSTOM_SECTION, Value, custom_key_problem, custom_name
from chatsync.facts.limits import DEFAULT_ADMIN
from chatsync.facts.regions import DEFAULT_REGION
from chatsync.text.safe import quote, visible

DEFAULT_PATH = "chatsync.yaml"
SUFFIXES = (".yaml", ".yml")


class Listener(Protocol):
    """Told of the parts of a config as soon as each is read and checked on its own."""

    def app(self, app: AppConfig) -> None:
        """The first ``app:`` section, checked (another one later fails the load)."""

    def declared(self, principal: Principal) -> None:
        """A bot or account whose entry passed its own checks (in file order; some may come only
        with the finished :class:`DesiredState`: those whose checks needed the whole config)."""


def load(paths: Sequence[str | os.PathLike[str]] = (), listener: Listener | None = None, *,
         follow_symlinks: bool = False) -> DesiredState:
    """Read and check the config at ``paths`` (default ``chatsync.yaml``); ``listener`` (if any)
    hears of its parts as they are read. A symbolic link that leads outside the directories given
    is refused unless ``follow_symlinks`` (:func:`expand`).

    Raises :class:`ConfigError` carrying every problem found, each located in its file.
    """
    return _load(paths, _Watch(listener), follow_symlinks)


def _load(paths: Sequence[str | os.PathLike[str]], watch: _Watch, follow_symlinks: bool) -> DesiredState:
    problems: list[Problem] = []
    order: list[str] = []
    files = expand(paths, problems, order, follow_symlinks=follow_symlinks)
    documents: list[Document] = []
    unreadable = False
    for file in files:
        watch.file = file
        root, found = _read(file, watch)
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
    if problems or state is None:  # the checks across files leave their problems untagged
        raise ConfigError([problem.of_kind(checks.CONFIG) for problem in problems], order)
    return state


MAX_FILE_BYTES = 64 * 1024 * 1024


def expand(
    paths: Sequence[str | os.PathLike[str]], problems: list[Problem], order: list[str] | None = None,
    *, follow_symlinks: bool = False,
) -> list[str]:
    """The files ``paths`` name, as the user wrote them; directories give their YAML files.

    ``order`` (if given) receives every name a file or a problem is about, in the order given, so
    problems can be listed in that order.

    Unless ``follow_symlinks``, a symbolic link given, or found in a directory given, must lead
    inside the directories given (each directory given, and the directory of each file given):
    one that leads elsewhere (``/etc/shadow``, a directory outside the repository) is refused,
    naming the link and its target, and is not read.
    """
    given = [os.fspath(p) for p in paths] or [DEFAULT_PATH]
    default = not paths
    files: list[str] = []
    seen: set[str] = set()
    order = [] if order is None else order
    roots = [] if follow_symlinks else _roots(given)

    def leads_out(name: str) -> bool:
        """Refuse ``name`` if it is a link that leads outside ``roots``; True when refused."""
        if follow_symlinks or not os.path.islink(name.rstrip(os.sep) or name):
            return False
        target = os.path.realpath(name)
        if any(_inside(target, root) for root in roots):
            return False
        refuse(name, f"is a symbolic link to {visible(target)}, outside the directories given; it is "
                     "not read: pass --follow-symlinks to read it (Python: follow_symlinks=True)")
        return True

    def add(name: str) -> None:
        real = os.path.realpath(name)
        if real not in seen:
            seen.add(real)
            files.append(name)
            order.append(name)

    def refuse(name: str, message: str) -> None:
        order.append(name)
        problems.append(Problem(Location(name, 0, 0), message, checks.FILE))

    for name in given:
        if not name:
            refuse(
                '""',
                "an empty path was given; pass config files or directories (e.g. bots envs/prod)",
            )
            continue
        if leads_out(name):
            continue
        try:
            info = os.stat(name)
        except FileNotFoundError:
            if default:
                refuse(name, "no such file in this directory; create it, or pass your config files "
                             "or directories (e.g. bots envs/prod)")
            else:
                refuse(name, "no such file or directory; check the path")
            continue
        except OSError as exc:
            refuse(name, _os_message(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            _expand_directory(name, add, refuse, leads_out)
        elif stat.S_ISREG(info.st_mode):
            add(name)
        else:
            refuse(name, _not_regular(info.st_mode))
    return files


def _roots(given: Sequence[str]) -> list[str]:
    """The directories a config's links may lead into: each directory given (not itself a link),
    and the directory of each other path given (a file, or a link)."""
    roots = []
    for name in given:
        if not name:
            continue
        bare = name.rstrip(os.sep) or name  # "link/" would follow the link
        if os.path.isdir(bare) and not os.path.islink(bare):
            roots.append(os.path.realpath(bare))
        else:
            roots.append(os.path.realpath(os.path.dirname(bare) or os.curdir))
    return roots


def _inside(path: str, root: str) -> bool:
    """True when the (real, absolute) ``path`` is ``root`` or below it."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # on different drives
        return False


def _expand_directory(name: str, add: Any, refuse: Any, leads_out: Any) -> None:
    try:
        children = sorted(
            entry.name
            for entry in os.scandir(name)
            if os.path.splitext(entry.name)[1].lower() in SUFFIXES and not entry.name.startswith(".")
        )
    except OSError as exc:
        refuse(name, _os_message(exc))
        return
    found = False
    for child in children:
        path = os.path.join(name, child)
        if leads_out(path):
            found = True  # a config file, refused: not "no files here"
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:  # e.g. a link to nothing
            refuse(path, _os_message(exc))
            continue
        if stat.S_ISDIR(mode):
            continue  # a directory named like a file: not a config file, and not read into
        found = True
        if stat.S_ISREG(mode):
            add(path)
        else:
            refuse(path, _not_regular(mode) + " (found in a directory of config files)")
    if not found:
        refuse(
            name,
            "no *.yaml or *.yml files in this directory; pass the directory that holds the config files",
        )


def _not_regular(mode: int) -> str:
    kind = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    return f"is {kind}, not a regular file; pass a config file or a directory of them"


def _read_bytes(file: str) -> bytes | Problem:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or the problem that prevents it.

    Opened without blocking (a FIFO swapped in after :func:`expand` would otherwise hang) and
    checked again on the open descriptor.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(file, flags)
    except IsADirectoryError:
        return Problem(Location(file, 0, 0), "is a directory, not a file; pass a file")
    except OSError as exc:
        return Problem(Location(file, 0, 0), _os_message(exc))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                return Problem(Location(file, 0, 0), "is a directory, not a file; pass a file")
            return Problem(Location(file, 0, 0), _not_regular(info.st_mode))
        if info.st_size > MAX_FILE_BYTES:
            return _too_big(file, info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # it grew while being read
            return _too_big(file, len(data))
        return data
    except OSError as exc:
        return Problem(Location(file, 0, 0), _os_message(exc))
    finally:
        os.close(fd)


def _too_big(file: str, size: int) -> Problem:
    return Problem(
        Location(file, 0, 0),
        f"the file is {size / 2**20:.0f} MiB; a config file may be at most {MAX_FILE_BYTES // 2**20} MiB: "
        "split it into several files in a directory",
    )


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"cannot read it ({reason}); check that it exists and that you may read it"


def _internal(file: str, exc: BaseException) -> Problem:
    return Problem(
        Location(file, 1, 1),
        f"chatsync could not check this file ({type(exc).__name__}: {exc}); please report this as a bug",
    )


#: A line that starts a config's ``version:`` key (plain, quoted, or in a flow mapping).
_VERSION_LINE = re.compile(rb"""^[ \t{]*["']?version["']?[ \t]*:""", re.MULTILINE)
NOT_A_CONFIG = (
    "is not a chatsync config: it has no version: at its top (none of its content is shown); pass "
    "chatsync config files only, which start with version: 1"
)


#: Problems of a whole file that quote none of it, kept as they are said even without ``version:``.
KEEPS_ITS_MESSAGE = ("the file is empty", "the file has no content", "the file is UTF-16 or UTF-32")


def _not_a_config(root: Any, problems: list[Problem], data: bytes) -> bool:
    """True when the file read is no chatsync config: its top is a mapping without ``version``, or
    it cannot be read as YAML and no line of it starts a ``version:`` key. Such a file (a shadow
    file a link led to, another tool's YAML) is refused whole: its problems would quote its keys.
    An empty file, or one in UTF-16, keeps its own message (:data:`KEEPS_ITS_MESSAGE`)."""
    if isinstance(root, YMap):
        return "version" not in root
    if root is not None or not problems:
        return False
    if problems[0].message.startswith(KEEPS_ITS_MESSAGE):
        return False
    return _VERSION_LINE.search(data) is None


def _read(file: str, watch: _Watch | None = None) -> tuple[YMap | None, list[Problem]]:
    data = _read_bytes(file)
    if isinstance(data, Problem):
        return None, [data.of_kind(checks.FILE)]
    try:
        root, problems = read_text(file, data, watch)
        if _not_a_config(root, problems, data):
            return None, [Problem(Location(file, 0, 0), NOT_A_CONFIG, checks.FILE)]
        del data
        problems = [problem.of_kind(checks.YAML) for problem in problems]
        if root is not None:
            problems += [problem.of_kind(checks.SCHEMA) for problem in schema.check(file, root)]
            problems += [problem.of_kind(checks.RULE) for problem in semantic.check_file(file, root)]
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


# -- checks as a file is read -------------------------------------------------------------------


class _Watch:
    """Checks each part of the files as it is read (a :class:`~chatsync.config.yaml_loader.Watcher`):
    the first ``app:`` section, and each entry of ``bots:`` and ``accounts:``, which becomes a
    :class:`Principal` in its place when it passes every check that needs only itself (and the
    app, for custom keys). An entry with any problem is kept as read: the whole-file checks then
    find it and word the message."""

    def __init__(self, listener: Listener | None) -> None:
        self.listener = listener
        self.file = ""
        self.app: AppConfig | None = None
        self.apps = 0

    def top(self, key: str, value: YMap, key_mark: int) -> None:
        if key != "app":
            return
        self.apps += 1
        if self.apps > 1 or not schema.app_valid(value):
            return
        if next(semantic.app_problems(self.file, value), None) is not None:
            return
        self.app = _app_config(self.file, value, key_mark)
        if self.listener is not None:
            self.listener.app(self.app)

    def entry(self, section: str, user_id: str, body: YMap | None, key_mark: int) -> Any:
        kind = BY_SECTION[section].name if section in BY_SECTION else None
        if kind is None or not schema.entry_valid(section, user_id, body):
            return body
        if body is not None:
            custom = body.get(CUSTOM_SECTION)
            if custom is not None and (self.app is None or _undeclared(custom, self.app)):
                return body  # checked against app.custom_fields with the whole config
        if next(semantic.entry_problems(self.file, section, user_id, body, key_mark), None) is not None:
            return body
        fields = _fields(body, kind) if body is not None else {}  # None: an id alone, it must exist
        if not all(_encodable(value) for value in fields.values() if isinstance(value, str)):
            return body  # a lone surrogate (the pure-Python parser lets one through): reported later
        state = "absent" if body is not None and body.get("state") == "absent" else "present"
        return self._made(Principal(kind, user_id, fields, state, location(self.file, key_mark)))  # type: ignore[arg-type]

    def _made(self, principal: Principal) -> Principal:
        if self.listener is not None:
            self.listener.declared(principal)
        return principal


def _undeclared(custom: Any, app: AppConfig) -> bool:
    return not isinstance(custom, YMap) or any(key not in app.custom_fields for key in custom)


def _encodable(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- rules across files ----------------------------------------------------------------------


def _assemble(
    documents: list[Document], files: list[str], problems: list[Problem], unreadable: bool
) -> DesiredState | None:
    app_entry = _one_app(documents, files, problems, unreadable)
    app = None
    settings: dict[str, tuple[Location, ...]] = {}
    if app_entry is not None:
        file, root = app_entry
        app = _app_config(file, root["app"], root.meta["app"].key_mark)
        app, settings = overlays.merge_app(documents, file, app, problems)
    objects: dict[str, dict[str, Principal]] = {kind.name: {} for kind in KINDS}
    for document in documents:
        for kind in KINDS:
            _collect(document, kind.section, objects[kind.name], problems, app)

    def custom_check(file: str, kind: str, user_id: str, body: YMap) -> None:
        if app is not None:
            _undeclared_custom_keys(file, kind, user_id, body, app, problems)

    overrides = overlays.apply_overrides(documents, {kind.section: objects[kind.name] for kind in KINDS},
                                         problems, _fields, custom_check)
    for kind in KINDS:
        _count_limit(documents, kind, objects[kind.name], problems)
    if app is None:
        return None
    for kind in KINDS:
        own = checks_of(kind)
        if own is not None:
            problems.extend(own.reference_problems(objects[kind.name], objects, app, overrides))
    for principal in (p for declared in objects.values() for p in declared.values()):
        if not principal.present and principal.user_id in app.protected_ids:
            reason = (
                "it is the app admin" if principal.user_id == app.admin else ("it is listed in app.protected")
            )
            override = overrides.get(principal.address)
            assert principal.location is not None
            problems.append(
                Problem(
                    override.fields.get("state", principal.location) if override else principal.location,
                    f"{principal.kind} {quote(principal.user_id)} is state: absent but "
                    f"chatsync never deletes it ({reason}); remove one of the two",
                )
            )
    return DesiredState(app, sources=tuple(files), objects=objects, origins=Origins(settings, overrides))


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
    document: Document, section: str, declared: dict[str, Principal], problems: list[Problem],
    app: AppConfig | None,
) -> None:
    """Make a :class:`Principal` of each entry of ``section``, checking its custom keys against
    ``app`` (when there is one). Each entry's parsed body is dropped from the document once it is
    made into a principal: the principals are built in the memory the bodies free, so loading a
    large config never holds both whole (the checks that need the bodies ran already)."""
    entries = document.root.get(section)
    if not isinstance(entries, YMap):
        return
    kind = BY_SECTION[section].name
    for user_id, body in entries.items():
        if isinstance(body, Principal):  # made as the file was read (_Watch), with its place
            made: Principal | None = body
            here = body.location or location(document.file, entries.mark)
        else:
            made = None
            here = location(document.file, entries.meta[user_id].key_mark)
            if app is not None and isinstance(body, YMap):
                _undeclared_custom_keys(document.file, kind, user_id, body, app, problems)
        entries[user_id] = None  # replacing a value while iterating is allowed; the size stays
        previous = declared.get(user_id)
        if previous is not None:
            problems.append(
                Problem(
                    here,
                    f"{kind} {quote(user_id)} is already declared at {previous.location}; "
                    "declare each id once",
                )
            )
            continue
        if made is not None:
            declared[user_id] = made
            continue
        fields: dict[str, Value] = {}
        state = "present"
        if isinstance(body, YMap):
            fields = _fields(body, kind)
            if body.get("state") == "absent":
                state = "absent"
        declared[user_id] = Principal(kind, user_id, fields, state, here)  # type: ignore[arg-type]


def _fields(body: YMap, kind: str = "") -> dict[str, Value]:
    """The profile fields of one bot or account whose values have the right type (the schema
    reports the others), custom keys as ``custom.Key``; a kind of its own fields, its checks'."""
    of_kind = KIND_BY_NAME.get(kind)
    own = checks_of(of_kind) if of_kind is not None and not of_kind.profile else None
    if own is not None:
        return own.fields(body)
    fields: dict[str, Value] = {}
    for name, value in body.items():
        field = BY_NAME.get(name)
        if field is None:
            continue
        if isinstance(value, str) if field.kind != "uint32" else field.problem(value) is None:
            fields[name] = value
    custom = body.get(CUSTOM_SECTION)
    if isinstance(custom, YMap):
        for key, value in custom.items():
            if isinstance(key, str) and custom_key_problem(key) is None and isinstance(value, str):
                fields[custom_name(key)] = value
    return fields


def _undeclared_custom_keys(file: str, kind: str, user_id: str, body: YMap, app: AppConfig,
                            problems: list[Problem]) -> None:
    """A custom key that ``app.custom_fields`` does not list is an error where it is used."""
    custom = body.get(CUSTOM_SECTION)
    if not isinstance(custom, YMap):
        return
    for key in custom:
        if not isinstance(key, str) or key in app.custom_fields or custom_key_problem(key) is not None:
            continue
        listed = ", ".join(app.custom_fields) or "none"
        problems.append(Problem(
            location(file, custom.meta[key].key_mark),
            f"{kind} {quote(user_id)} custom.{hints.piece(key)}: {hints.piece(key)} is not in "
            f"app.custom_fields (listed: {listed}); configure it in the Chat console, then add it to "
            "app.custom_fields",
        ))


def _count_limit(documents: list[Document], kind: Kind, declared: dict[str, Principal],
                 problems: list[Problem]) -> None:
    """A problem when more objects of ``kind`` are declared present than an app can hold."""
    most = kind.max_present
    if most is None:
        return
    present = [p for p in declared.values() if p.present]
    if len(present) <= most:
        return
    extra = present[most]
    assert extra.location is not None
    file = extra.location.file
    root = next(doc.root for doc in documents if doc.file == file)
    problems.append(
        Problem(
            location(file, root.meta[kind.section].key_mark),
            f"{len(present)} {kind.section} are declared present (the {ordinal(most + 1)} is "
            f"{quote(extra.user_id)}); an app can have at most {most} {kind.section}: remove "
            f"some or mark them state: absent. Counted: {_counted(present)}",
        )
    )


#: Bots the bot limit's error names one by one; the rest are counted.
NAMED_BOTS = 40


def _counted(bots: list[Principal]) -> str:
    """The bots counted against the limit, by id."""
    named = [quote(b.user_id) for b in bots[:NAMED_BOTS]]
    more = f", and {len(bots) - NAMED_BOTS} more" if len(bots) > NAMED_BOTS else ""
    return ", ".join(named) + more


def _app_config(file: str, app: YMap, key_mark: int) -> AppConfig:
    """The :class:`AppConfig` of an ``app:`` mapping (its key written at ``key_mark``)."""

    def get(name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = app.get(name, default)
        if isinstance(value, bool) and kind is not bool:
            return default
        return value if isinstance(value, kind) else default

    protected = app.get("protected")
    custom = app.get("custom_fields")
    rates = app.get("rate_limits")
    return AppConfig(
        sdkappid=get("sdkappid", int, 0),
        region=get("region", str, DEFAULT_REGION),
        endpoint=get("endpoint", str, None),
        admin=get("admin", str, DEFAULT_ADMIN),
        secret_key_env=get("secret_key_env", str, DEFAULT_SECRET_KEY_ENV),
        prune_bots=get("prune_bots", bool, False),
        prune_groups=get("prune_groups", bool, False),
        protected=tuple(p for p in protected if isinstance(p, str)) if isinstance(protected, YList) else (),
        max_deletes=get("max_deletes", int, DEFAULT_MAX_DELETES),
        custom_fields=tuple(dict.fromkeys(k for k in custom if isinstance(k, str)))
        if isinstance(custom, YList) else (),
        rates={k: v for k, v in rates.items() if isinstance(v, int)} if isinstance(rates, YMap) else {},
        location=location(file, key_mark),
    )


def ordinal(number: int) -> str:
    """``21st``, ``22nd``, ``23rd``, ``24th``, ``11th``."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"
