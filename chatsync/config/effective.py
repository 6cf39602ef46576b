"""The effective config: the one desired state that several files, shared settings and overrides
make, written back as a single config (``chatsync validate --show``; docs/environments.md).

Every value is the one plan and apply use, each object and setting with a comment saying where it
was written: ``file:line:column`` of its declaration, of the shared setting, of the override.
Settings left at their default say so. The text is a config chatsync reads back to the same
desired state, in the form ``chatsync fmt`` writes (the field table's order, bot ids quoted, two
spaces), so it can be compared between environments with ``diff``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from chatsync.config import canonical
from chatsync.config.sections import KIND_SECTIONS
from chatsync.domain.kinds import BY_NAME
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.domain.origins import Override
from chatsync.errors import Location
from chatsync.text.safe import UNSAFE

#: Where the comments start (or two spaces after a longer line).
COMMENT_COLUMN = 40


def text(desired: DesiredState, paths: Sequence[str] = ()) -> str:
    """The effective config of ``desired`` (loaded from ``paths``, named in its first line)."""
    return "".join(f"{line}\n" for line in lines(desired, paths))


def lines(desired: DesiredState, paths: Sequence[str] = ()) -> Iterator[str]:
    """:func:`text`, a line at a time (a large config is never held twice)."""
    given = " ".join(paths) or "chatsync.yaml"
    yield f"# The effective config of: {_comment_text(given)}"
    yield "# What plan and apply use; each comment says where a value was written (file:line:column)."
    yield "version: 1"
    yield from _app(desired.app, desired.origins.settings)
    for section, kind in KIND_SECTIONS.items():
        principals = [p for p in desired.principals() if p.kind == kind]
        if not principals:
            continue
        yield f"{section}:"
        for principal in principals:
            yield from _principal(section, principal, desired.origins.overrides.get(principal.address))


def _app(app: AppConfig, origins: Mapping[str, tuple[Location, ...]]) -> Iterator[str]:
    yield _with("app:", str(app.location) if app.location else "")
    for name, value in canonical.app_settings(app, defaults=True):
        places = origins.get(name, ())
        yield _with(f"  {name}: {value}", " + ".join(str(p) for p in places) if places else "default")


def _principal(section: str, principal: Principal, override: Override | None) -> Iterator[str]:
    where = str(principal.location) if principal.location else ""
    replaced: Mapping[str, Location] = {}
    if override is not None:
        where = "; ".join(filter(None, [where, f"overridden at {override.location}"]))
        replaced = override.fields
    yield _with(f"  {canonical.id_key(section, principal.user_id)}:", where)
    for name, line in canonical.body(principal.fields, principal.state, BY_NAME[principal.kind]):
        place = replaced.get(name)
        yield _with(f"    {line}", f"override {place}" if place is not None else "")
    if principal.present and "state" in replaced:
        yield _with("    state: present", f"override {replaced['state']}")


def _with(line: str, note: str) -> str:
    if not note:
        return line
    return f"{line:<{COMMENT_COLUMN - 2}}  # {_comment_text(note)}"


def _comment_text(note: str) -> str:
    """``note`` as comment text: on one line, with nothing a terminal would act on."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", note)
