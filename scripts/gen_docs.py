"""The tables of the docs that come from the code, written into the pages between markers.

A page holds a generated block as::

    <!-- generated: NAME (scripts/gen_docs.py; edit the code, then run make docs) -->
    ...
    <!-- end generated: NAME -->

and this script rewrites what stands between the two markers from the code: the profile fields
(chatsync/facts/fields.py), the commands, their flags and exit codes (the click commands and their
--help texts), the error codes (chatsync/facts/error_codes.py), the regions and the rate limits.
So every such table has one source. ``make docs`` runs it before building the site; the test suite
(tests/docs/test_generated.py) fails while a page differs from what it would write.

    python scripts/gen_docs.py            rewrite the stale blocks of docs/*.md
    python scripts/gen_docs.py --check    list the stale blocks, exit 1 if any (writes nothing)
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w:-]+) [^\n]*-->\n)(?P<body>.*?)"
                   r"(<!-- end generated: (?P=name) -->)", re.DOTALL)
HEADER = "<!-- generated: {name} (scripts/gen_docs.py; edit the code, then run make docs) -->\n"

#: The commands in the order the Commands page shows them (the emulator has a page of its own).
COMMAND_ORDER = ("validate", "plan", "apply", "show", "export", "fmt", "schema", "emulator")


def cell(text: str) -> str:
    """``text`` made safe for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# -- profile fields -------------------------------------------------------------------------------

def _values(field: object) -> str:
    from chatsync.facts.fields import UINT32_MAX, Field

    assert isinstance(field, Field)
    if field.kind == "enum":
        return ", ".join(f"`{name}`" for name in field.names)
    if field.kind == "uint32":
        return f"whole number, 0 to {UINT32_MAX}"
    return f"text, at most {field.max_bytes} bytes (UTF-8)"


def fields_config() -> str:
    """The fields of a bot or an account, as a config writes them."""
    from chatsync.facts import fields

    rows = [(f"`{f.name}`", _values(f), cell(f.description)) for f in fields.STANDARD]
    rows.append((f"`{fields.CUSTOM_SECTION}`",
                 f"`{{Key: text}}`: each key 1 to {fields.CUSTOM_KEY_MAX_BYTES} English letters, listed in "
                 "`app.custom_fields`; each value text, at most 500 bytes",
                 "the app's custom profile fields, one managed field per key (`custom.Key` in plans)"))
    rows.append(("`state`", "`present` (the default), `absent`",
                 "`absent`: must not exist, planned for deletion; takes no other field"))
    return table(("field", "values and limits", "meaning"), rows)


def fields_api() -> str:
    """How each field maps to the API: its tag, its values on the wire, the calls that carry it."""
    from chatsync.facts import fields

    rows = []
    for f in fields.STANDARD:
        wire = ", ".join(f"`{name}` = `{value}`" for name, value in f.values) if f.values else {
            "uint32": "JSON number (uint32)", "text": "JSON string"}[f.kind]
        carried = [f"`create_robot` (`{f.robot_key}`)"] if f.robot_key else []
        carried += [f"the import APIs (`{f.import_key}`)"] if f.import_key else []
        carried.append("`portrait_set`")
        rows.append((f"`{f.name}`", f"`{f.tag}`", f.kind, wire, ", ".join(carried)))
    rows.append((f"`{fields.CUSTOM_SECTION}: {{Key: ...}}`", f"`{fields.CUSTOM_PREFIX}Key`", "text",
                 "JSON string", "`portrait_set`"))
    return table(("YAML field", "Tencent tag", "type", "on the wire", "written by"), rows)


# -- regions and rate limits ----------------------------------------------------------------------

def regions() -> str:
    from chatsync.facts.regions import DEFAULT_REGION, REGIONS

    rows = [(f"`{r.name}`" + (" (the default)" if r.name == DEFAULT_REGION else "")
             + (" (legacy)" if r.legacy else ""), f"`{r.primary}`", f"`{r.backup}`")
            for r in REGIONS.values()]
    return table(("`region`", "API domain", "backup domain (used when the primary cannot be reached)"), rows)


def rate_limits() -> str:
    from chatsync.facts.endpoints import ENDPOINTS

    rows = [(f"`{e.name}`", f"`{e.path}`", f"{e.rate_per_second}/s") for e in ENDPOINTS.values()]
    return table(("API (`app.rate_limits` key)", "path", "documented limit"), rows)


# -- error codes ----------------------------------------------------------------------------------

def error_codes() -> str:
    from chatsync.facts.error_codes import CODES, Kind, stops_run

    what = {Kind.TRANSIENT: "retried", Kind.REFRESH_SIG: "new UserSig, one retry", Kind.PERMANENT: "final"}
    rows = [(str(code), what[entry.kind] + ("; stops the run" if stops_run(code) else ""),
             cell(entry.info), cell(entry.hint) or "-")
            for code, entry in sorted(CODES.items())]
    return table(("code", "chatsync", "what the API says", "what to do"), rows)


# -- commands -------------------------------------------------------------------------------------

def _root_context() -> click.Context:
    from chatsync.cli import main

    return click.Context(main, info_name="chatsync")


def _command(name: str) -> click.Command:
    from chatsync.cli import main

    return main.commands[name]


def _global_names() -> set[str]:
    from chatsync.cli.flags import GLOBAL_FLAGS

    return {name for _, name, _ in GLOBAL_FLAGS} | {"help"}


def help_records(name: str) -> list[tuple[str, str]]:
    """(flags, help) of each of the command's own flags, as its --help prints them."""
    command = _command(name)
    ctx = click.Context(command, info_name=name, parent=_root_context())
    records = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.name in _global_names() or "--help" in param.opts:
            continue
        record = param.get_help_record(ctx)
        if record is not None:
            records.append(record)
    return records


def epilog_parts(name: str) -> tuple[list[str], list[str], str]:
    """The command's epilog as (its examples, its other paragraphs, its exit codes)."""
    epilog = _command(name).epilog or ""
    examples: list[str] = []
    paragraphs: list[str] = []
    exits = ""
    for part in re.split(r"^\s*\x08\s*$|\n\s*\n", epilog, flags=re.MULTILINE):
        lines = [line for line in part.strip("\n").splitlines() if line.strip()]
        if not lines:
            continue
        head = lines[0].strip()
        if head in ("Examples:", "Example:"):
            examples = [line[2:] if line.startswith("  ") else line for line in lines[1:]]
        elif head.startswith("Exit codes:"):
            exits = " ".join(" ".join(lines).split())[len("Exit codes:"):].strip()
        else:
            paragraphs.append("\n".join(lines))
    return examples, paragraphs, exits


def usage(name: str) -> str:
    command = _command(name)
    ctx = click.Context(command, info_name=name, parent=_root_context())
    return f"chatsync {name} " + " ".join(command.collect_usage_pieces(ctx))


def _help_paragraphs(name: str) -> list[str]:
    text = inspect.cleandoc(_command(name).help or "")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def command_section(name: str, level: str = "###") -> str:
    first, *rest = _help_paragraphs(name)
    examples, paragraphs, exits = epilog_parts(name)
    out = [f"{level} `chatsync {name}`\n", f"{first}\n"]
    out += [f"{p}\n" for p in rest]
    out.append(f"```text\n{usage(name)}\n```\n")
    records = help_records(name)
    if records:
        out.append(table(("flag", "meaning"), [(f"`{cell(flags)}`", cell(text)) for flags, text in records]))
    if examples:
        out.append("```sh\n" + "\n".join(examples) + "\n```\n")
    for paragraph in paragraphs:
        if paragraph.startswith("As a service"):
            continue  # the emulator page explains these limits in full
        out.append(" ".join(paragraph.split()) + "\n")
    out.append(f"**Exit codes:** {exits or general_exit_codes()}\n")
    return "\n".join(out)


def commands() -> str:
    return "\n".join(command_section(name) for name in COMMAND_ORDER if name != "emulator")


def command_emulator() -> str:
    return command_section("emulator")


def general_exit_codes() -> str:
    """What the ``chatsync --help`` text says of every command's exit codes."""
    from chatsync.cli import main

    text = " ".join(inspect.cleandoc(main.help or "").replace("\x08", "").split())
    found = re.search(r"Exit codes: (.*?\.) ", text + " ")
    assert found, "chatsync --help no longer says its exit codes"
    return found.group(1)


def exit_codes() -> str:
    rows = [(f"`{name}`", cell(epilog_parts(name)[2] or "as every command (the last row)"))
            for name in COMMAND_ORDER]
    rows.append(("every command", cell(general_exit_codes())))
    return table(("command", "exit codes"), rows)


def command_list() -> str:
    from chatsync.cli import COMMANDS

    rows = [(f"[`{name}`](#chatsync-{name})" if name != "emulator" else "[`emulator`](emulator.md)",
             cell(COMMANDS[name][2])) for name in COMMAND_ORDER]
    return table(("command", "what it does"), rows)


def global_flags() -> str:
    from chatsync.cli.flags import GLOBAL_FLAGS

    rows = [("`" + ", ".join(declarations) + "`", cell(text)) for declarations, _, text in GLOBAL_FLAGS]
    rows.append(("`-h`, `--help`", "Show the command's help (with examples and exit codes) and exit."))
    return table(("flag", "meaning"), rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "fields-config": fields_config,
    "fields-api": fields_api,
    "regions": regions,
    "rate-limits": rate_limits,
    "error-codes": error_codes,
    "commands": commands,
    "command-emulator": command_emulator,
    "command-list": command_list,
    "exit-codes": exit_codes,
    "global-flags": global_flags,
}


def rendered(text: str, source: str = "") -> str:
    """``text`` with every generated block written afresh. An unknown block name is an error."""

    def block(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in GENERATORS:
            raise SystemExit(f"{source}: unknown generated block {name!r}; known: {', '.join(GENERATORS)}")
        return HEADER.format(name=name) + GENERATORS[name]() + match.group(4)

    return BLOCK.sub(block, text)


def pages() -> Iterator[Path]:
    yield from sorted(DOCS.glob("*.md"))


def stale() -> list[str]:
    """The pages whose generated blocks differ from what the code gives now."""
    return [str(page.relative_to(ROOT)) for page in pages()
            if rendered(text := page.read_text(encoding="utf-8"), str(page)) != text]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = stale()
        for page in found:
            print(f"{page}: a generated table differs from the code; run make docs", file=sys.stderr)
        return 1 if found else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 1
    for page in pages():
        text = page.read_text(encoding="utf-8")
        new = rendered(text, str(page))
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"wrote {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
