"""Check one file against the packaged JSON Schema and turn each error into a located message.

``chatsync/schemas/chatsync.schema.json`` is the single source of the structural rules (editors use
the same file). jsonschema's own messages are never shown: each error becomes
``file:line:column: what is wrong; what to do``.

jsonschema needs about 25 µs per account, too slow for apps with 100,000 accounts, so entries of
``bots:`` and ``accounts:`` are first tried against small predicates *compiled from the same
schema* (exact for the few keywords they support); only entries those predicates reject go through
jsonschema, which then produces the errors. The schema stays the one source of truth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from itertools import repeat
from typing import TYPE_CHECKING, Any

from chatsync.config import hints, schema_build
from chatsync.config.checks import SECRET, UNKNOWN_FIELD
from chatsync.config.schema_build import IDENTITY
from chatsync.config.sections import SHARED
from chatsync.config.semantic import text_problem, user_id_message
from chatsync.config.yaml_loader import YMap, container_mark, entry_at, location
from chatsync.domain.kinds import BUILT_IN, KINDS, SECTIONS, per_registry
from chatsync.domain.model import PROFILE_FIELDS, Principal
from chatsync.errors import Problem
from chatsync.facts.fields import BY_NAME, CUSTOM_SECTION, custom_field, custom_key_problem
from chatsync.facts.network import ENDPOINT_EXAMPLE, endpoint_problem
from chatsync.text.safe import quote

if TYPE_CHECKING:
    from jsonschema import ValidationError

SCHEMA_RESOURCE = "schemas/chatsync.schema.json"


def schema_text() -> str:
    """The packaged schema, exactly as shipped (what ``chatsync schema`` prints); once a kind is
    registered beside the built-in ones, the schema built for them (:mod:`~chatsync.config.schema_build`,
    which the packaged file is a copy of for the built-in kinds)."""
    if len(KINDS) > len(BUILT_IN):
        return schema_build.text()
    return resources.files("chatsync").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@per_registry
def load_schema() -> dict[str, Any]:
    """The schema (:func:`schema_text`), parsed."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def _is_integer(_checker: object, instance: object) -> bool:
    # JSON Schema counts 1.0 as an integer and Python counts True as one; a config wants neither
    return isinstance(instance, int) and not isinstance(instance, bool)


@lru_cache(maxsize=1)
def _strict_validator_class() -> Any:
    """jsonschema's 2020-12 validator with a strict ``integer``; imported only when a file is not
    valid (a valid one is proven so by the compiled predicate, see :func:`_document_predicate`)."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
    )


def __getattr__(name: str) -> Any:  # ``StrictValidator`` without importing jsonschema up front
    if name == "StrictValidator":
        return _strict_validator_class()
    raise AttributeError(name)


@per_registry
def _validator() -> Any:
    return _strict_validator_class()(load_schema())


# -- fast predicates compiled from the schema --------------------------------------------------

Predicate = Callable[[Any], bool]
_ANNOTATIONS = {"description", "default", "title", "examples", "$comment", "markdownDescription", "$schema",
                "$defs"}
_TYPES: dict[str, Predicate] = {
    "string": lambda x: isinstance(x, str),
    "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
}

#: The JSON types whose test is one ``isinstance`` (not the numbers: a bool is an int to Python).
_PLAIN_TYPES: dict[str, type] = {"string": str, "null": type(None), "object": dict, "array": list,
                                 "boolean": bool}


def compile_predicate(sub: Any, root: dict[str, Any] | None = None) -> Predicate | None:
    """An exact ``is_valid`` for a subschema using only simple keywords, else None.

    Supported: type, minLength, maxLength, minimum, maximum, pattern, not, enum/const of strings,
    properties,
    additionalProperties, propertyNames, required and local ``$ref``. Exactness (not just
    soundness) is what lets ``not`` be compiled; the tests check it against jsonschema.
    """
    root = load_schema() if root is None else root
    if sub is True or sub == {}:
        return _always
    bounds = _text_bounds(sub, root)
    if bounds is not None:  # the most common schema (an id, a member): one test, not three
        shortest, longest = bounds
        return lambda x: isinstance(x, str) and shortest <= len(x) <= longest
    if sub is False:
        return lambda x: False
    if not isinstance(sub, dict):
        return None
    checks: list[Predicate] = []
    for keyword in sorted(sub, key=lambda k: k != "type"):  # type first: later checks rely on it
        value = sub[keyword]
        if keyword in _ANNOTATIONS or (keyword == "properties" and "additionalProperties" in sub):
            continue
        check = _compile_keyword(keyword, value, sub, root)
        if check is None:
            return None
        checks.append(check)
    return _all_of(checks)


def _always(_x: Any) -> bool:
    return True


def _text_bounds(sub: Any, root: dict[str, Any]) -> tuple[int, float] | None:
    """(minLength, maxLength) of a schema (a local ``$ref`` followed) that is a string of bounded
    length and nothing else (annotations aside), else None."""
    for _ in range(8):  # a chain of references, not a cycle
        if not isinstance(sub, dict) or "$ref" not in sub:
            break
        ref = sub["$ref"]
        if len(sub) != 1 or not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return None
        sub = root.get("$defs", {}).get(ref[len("#/$defs/") :])
    if not isinstance(sub, dict) or sub.get("type") != "string":
        return None
    shortest, longest = sub.get("minLength", 0), sub.get("maxLength", float("inf"))
    numbers = all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in (shortest, longest))
    if not numbers or any(k not in _ANNOTATIONS and k not in _LENGTHS for k in sub):
        return None
    return shortest, longest


#: The keywords :func:`_text_bounds` reads.
_LENGTHS = frozenset({"type", "minLength", "maxLength"})


def _texts(shortest: int, longest: float) -> Predicate:
    """``items`` of bounded strings in one loop, without a call per item (a group lists thousands
    of members)."""

    def texts(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        for item in x:  # noqa: SIM110 - a plain loop: all(genexpr) is 2x slower here
            if not (isinstance(item, str) and shortest <= len(item) <= longest):
                return False
        return True

    return texts


def _all_of(checks: list[Predicate]) -> Predicate:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)

    def every(x: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop: all(genexpr) is 2x slower here
            if not check(x):
                return False
        return True

    return every


def _compile_keyword(keyword: str, value: Any, sub: dict[str, Any], root: dict[str, Any]) -> Any:
    if keyword in _ANNOTATIONS:
        return lambda x: True
    if keyword == "$ref":
        if not isinstance(value, str) or not value.startswith("#/$defs/"):
            return None
        target = root.get("$defs", {}).get(value[len("#/$defs/") :])
        return None if target is None else compile_predicate(target, root)
    if keyword == "type":
        names = [value] if isinstance(value, str) else value
        if not all(name in _TYPES for name in names):
            return None
        tests = [_TYPES[name] for name in names]
        if len(tests) == 1:
            return tests[0]  # the common case, without a generator per value
        if all(name in _PLAIN_TYPES for name in names):  # e.g. an object or null: one isinstance
            kinds = tuple(_PLAIN_TYPES[name] for name in names)
            return lambda x: isinstance(x, kinds)
        return lambda x: any(test(x) for test in tests)
    if keyword == "maxLength" and sub.get("type") == "string":  # the type check comes first
        return lambda x: len(x) <= value
    if keyword == "maxLength":
        return lambda x: not isinstance(x, str) or len(x) <= value
    if keyword == "minLength":
        return lambda x: not isinstance(x, str) or len(x) >= value
    if keyword in ("minimum", "maximum") and isinstance(value, int):
        number = _TYPES["number"]
        if keyword == "minimum":
            return lambda x: not number(x) or x >= value
        return lambda x: not number(x) or x <= value
    if keyword == "pattern":
        regex = re.compile(value)
        return lambda x: not isinstance(x, str) or regex.search(x) is not None
    if keyword == "not":
        inner = compile_predicate(value, root)
        return None if inner is None else (lambda x: not inner(x))
    if keyword == "const" and isinstance(value, int) and not isinstance(value, bool):
        return lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and x == value
    if keyword == "items":
        bounds = _text_bounds(value, root)
        if bounds is not None:
            return _texts(*bounds)
        inner = compile_predicate(value, root)
        return None if inner is None else (lambda x: not isinstance(x, list) or all(map(inner, x)))
    if keyword == "uniqueItems":
        return _unique if value is True else _always
    if keyword in ("enum", "const"):
        options = value if keyword == "enum" else [value]
        if not all(isinstance(o, str) for o in options):
            return None
        allowed = frozenset(options)
        return lambda x: isinstance(x, str) and x in allowed
    if keyword == "required":
        needed = tuple(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in needed)
    if keyword == "propertyNames":
        names = compile_predicate(value, root)
        return None if names is None else (lambda x: not isinstance(x, dict) or all(map(names, x)))
    if keyword == "properties":
        compiled = {name: compile_predicate(s, root) for name, s in value.items()}
        props = {name: p for name, p in compiled.items() if p is not None}
        if len(props) != len(compiled):
            return None
        return lambda x: not isinstance(x, dict) or all(props[k](v) for k, v in x.items() if k in props)
    if keyword == "patternProperties" and "additionalProperties" in sub:
        return _always  # compiled together with "additionalProperties"
    if keyword == "additionalProperties":  # compiled together with "properties"
        extra = compile_predicate(value, root)
        known = {name: compile_predicate(s, root) for name, s in sub.get("properties", {}).items()}
        if extra is None or any(p is None for p in known.values()):
            return None
        if "patternProperties" in sub:
            return _with_patterns(sub["patternProperties"], known, extra, root)  # type: ignore[arg-type]

        def fields(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for k, v in x.items():
                check = known.get(k, extra)
                if not check(v):  # type: ignore[misc]
                    return False
            return True

        return fields
    return None


def _unique(x: Any) -> bool:
    """JSON Schema's ``uniqueItems``: no two items equal as JSON values (``1`` and ``true`` differ,
    ``1`` and ``1.0`` do not)."""
    if not isinstance(x, list):
        return True
    if all(map(isinstance, x, repeat(str))):
        return len(set(x)) == len(x)
    return not any(_json_equal(a, b) for i, a in enumerate(x) for b in x[i + 1 :])


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _with_patterns(patterns: dict[str, Any], known: dict[str, Predicate], extra: Predicate,
                   root: dict[str, Any]) -> Predicate | None:
    """``properties`` + ``patternProperties`` + ``additionalProperties`` as JSON Schema means them:
    a key meets its property's schema and that of every pattern it matches; ``extra`` applies only
    to a key that neither names nor matches."""
    compiled = [(re.compile(pattern), compile_predicate(s, root)) for pattern, s in patterns.items()]
    if any(check is None for _, check in compiled):
        return None

    def fields(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for k, v in x.items():
            matched = [check for regex, check in compiled if isinstance(k, str) and regex.search(k)]
            own = known.get(k)
            if own is None and not matched:
                if not extra(v):
                    return False
                continue
            if own is not None and not own(v):
                return False
            if not all(check(v) for check in matched):  # type: ignore[misc]
                return False
        return True

    return fields


@per_registry
def _document_predicate() -> Predicate | None:
    """An exact ``is_valid`` for a whole file, when the schema compiles (it does today): a valid
    file then needs no jsonschema at all (importing it alone costs about 30 ms of every command)."""
    return compile_predicate(load_schema())


@per_registry
def _section_predicates() -> dict[str, tuple[Predicate, Predicate]]:
    found = {}
    for section in SECTIONS:
        sub = load_schema().get("properties", {}).get(section, {})
        names = compile_predicate(sub.get("propertyNames", True))
        values = compile_predicate(sub.get("additionalProperties", True))
        if names is not None and values is not None:
            found[section] = (names, values)
    return found


def _thin(root: dict[str, Any]) -> dict[str, Any]:
    """``root`` without the bots/accounts entries the compiled predicates already accept (a
    :class:`~chatsync.domain.model.Principal` in an entry's place passed them as the file was read)."""
    thin = dict(root)
    for section, (name_ok, value_ok) in _section_predicates().items():
        entries = root.get(section)
        if isinstance(entries, dict):
            thin[section] = {k: v for k, v in entries.items()
                             if not (isinstance(v, Principal) or (name_ok(k) and value_ok(v)))}
    return thin


def entry_valid(section: str, user_id: str, body: Any) -> bool:
    """True when one entry of ``bots:`` or ``accounts:`` meets the schema (False when it does not,
    or when the schema could not be compiled: the whole-file check then says why)."""
    predicates = _section_predicates().get(section)
    return predicates is not None and predicates[0](user_id) and predicates[1](body)


@per_registry
def _app_predicate() -> Predicate | None:
    schema = load_schema()
    return compile_predicate(schema.get("properties", {}).get("app", True), schema)


def app_valid(app: Any) -> bool:
    """True when an ``app:`` mapping meets the schema (False also when it could not be compiled)."""
    predicate = _app_predicate()
    return predicate is not None and predicate(app)


# -- validation and translation ----------------------------------------------------------------


def check(file: str, root: YMap) -> list[Problem]:
    """Every schema problem of one file's data, located and worded for humans."""
    problems: list[Problem] = []
    thin = _thin(root)
    whole = _document_predicate()
    if whole is not None and whole(thin):
        return problems
    for error in _validator().iter_errors(thin):
        problems.extend(_translate(file, root, error))
    return problems


def _translate(file: str, root: YMap, error: ValidationError) -> Iterator[Problem]:
    path = list(error.absolute_path)
    keyword = str(error.validator)
    expected_value: Any = error.validator_value
    schema_path = list(error.relative_schema_path)

    def at_value() -> Any:
        entry = entry_at(root, path)
        return location(file, entry.value_mark if entry else root.mark)

    def at_key(sub_path: list[Any]) -> Any:
        entry = entry_at(root, sub_path)
        if entry is None:
            return location(file, container_mark(root, sub_path[:-1]))
        return location(file, entry.key_mark)

    where = hints.describe(path)
    if "propertyNames" in schema_path:
        key = str(error.instance)
        yield Problem(at_key([*path, key]), _bad_name(path, key))
        return
    if keyword == "additionalProperties":
        yield from _unknown_fields(file, root, path, error)
        return
    if keyword == "required":
        instance: Any = error.instance
        missing = [n for n in expected_value if n not in instance]
        where_missing = at_key(path) if path else location(file, root.mark)
        for name in missing:
            yield Problem(where_missing, _missing(path, name))
        return
    entry = entry_at(root, path)
    text = entry.text if entry else None
    value = error.instance
    if keyword == "type":
        expected = [expected_value] if isinstance(expected_value, str) else list(expected_value)
        field = str(path[-1]) if _is_profile_field(path) else None
        if field is not None and _field_kind(path) == "uint32":
            message = hints.wrong_type(where, value, text, ["integer"])
        elif path == ["version"]:
            message = _version_message(_shown(value, text))
        elif path == ["app", "secret_key_env"]:  # never shown: it may be the key itself
            message = hints.secret_key_env_not_text(value, text)
        elif field is not None:
            message = hints.not_text(where, value, text, field=field)
        else:
            message = hints.wrong_type(where, value, text, expected)
        yield Problem(at_value(), message)
        return
    yield Problem(at_value(), _value_message(path, where, keyword, error, text))


def _is_profile_field(path: list[Any]) -> bool:
    """True for the path of a profile field's value: a standard field, or one custom key."""
    if not path or path[0] not in SECTIONS:
        return False
    return (len(path) == 3 and path[2] in PROFILE_FIELDS) or (len(path) == 4 and path[2] == CUSTOM_SECTION)


def _field_kind(path: list[Any]) -> str:
    return BY_NAME[path[2]].kind if len(path) == 3 else "text"


def _bad_name(path: list[Any], key: str) -> str:
    section = path[0] if path else ""
    if len(path) == 1 and section in SECTIONS:
        return hints.id_problem(section, key) or f"{quote(key)} is not a valid id; fix it"
    if len(path) == 3 and section in SECTIONS and path[2] == CUSTOM_SECTION:
        why = custom_key_problem(key) or "is not a custom field key"
        return (f"{hints.describe(path)}: the key {quote(key)} {why}; write the key as it is "
                "configured in the console")
    if path == ["app", "custom_fields"] or path[:2] == ["app", "custom_fields"]:
        why = custom_key_problem(key) or "is not a custom field key"
        return f"{hints.describe(path)}: {quote(key)} {why}; write the key as configured in the console"
    if path == ["app", "rate_limits"]:
        from chatsync.facts.endpoints import ENDPOINTS

        guess = hints.closest(key, ENDPOINTS)
        hint = f"did you mean {guess}?" if guess else f"choose from {', '.join(ENDPOINTS)}"
        return f"app.rate_limits: unknown API {quote(key)}; {hint}"
    return f"{hints.describe(path)}: the key {quote(key)} is not allowed; fix it"


def _unknown_fields(file: str, root: YMap, path: list[Any], error: ValidationError) -> Iterator[Problem]:
    sub = error.schema if isinstance(error.schema, dict) else {}
    known = list(sub.get("properties", {}))
    patterns = [re.compile(p) for p in sub.get("patternProperties", {})]
    instance = error.instance if isinstance(error.instance, dict) else {}
    where = hints.describe(path)
    for key in instance:
        if key in known or any(p.search(key) for p in patterns):
            continue
        entry = entry_at(root, [*path, key])
        loc = location(file, entry.key_mark if entry else container_mark(root, path))
        if hints.is_secret_name(key):
            yield Problem(loc, hints.SECRET_FIELD, SECRET)
            continue
        if path == [SHARED] and key in IDENTITY:
            yield Problem(loc, f"{key} names one app, so it is not shared: write it in each environment's "
                               f"app: (shared: holds the settings every environment has)", UNKNOWN_FIELD)
            continue
        guess = hints.closest(key, known)
        context = f" in {where}" if path else ""
        if guess:
            yield Problem(loc, f"unknown field {hints.single_quote(key)}{context}; did you mean {guess!r}?",
                          UNKNOWN_FIELD)
        else:
            allowed = ", ".join(known) + (", x-..." if not path else "")
            yield Problem(loc, f"unknown field {hints.single_quote(key)}{context}; allowed fields: {allowed}",
                          UNKNOWN_FIELD)


def _missing(path: list[Any], name: str) -> str:
    if not path and name == "version":
        return "version is missing; add version: 1 at the top of the file"
    if path == ["app"] and name == "sdkappid":
        return "app has no sdkappid; add sdkappid: with your app's SDKAppID (e.g. 1400000000)"
    return f"{hints.describe(path)} has no {name}; add it"


def _value_message(
    path: list[Any], where: str, keyword: str, error: ValidationError, text: str | None
) -> str:
    value = error.instance
    shown = _shown(value, text)
    if path == ["version"]:
        return _version_message(shown)
    if path == ["app", "region"]:
        from chatsync.facts.regions import REGIONS

        guess = hints.closest(str(value), REGIONS)
        hint = f"did you mean {guess}? " if guess else ""
        return f"unknown region {shown}; {hint}choose one of: {', '.join(REGIONS)}"
    if len(path) == 3 and path[2] == "state":
        return f"{where} must be present or absent, not {shown}; write state: absent or remove it"
    if _is_profile_field(path) and value is None and _field_kind(path) == "enum":
        names = ", ".join(BY_NAME[path[2]].names)
        return f"{where} has no value; write one of {names}, or remove the line to leave it unmanaged"
    if path[:2] == ["app", "custom_fields"] and keyword == "pattern" and isinstance(value, str):
        why = custom_key_problem(value) or "is not a custom field key"
        return f"{where} {quote(value)} {why}; write the key as configured in the console"
    if path == ["app", "custom_fields"] and keyword == "uniqueItems":
        return f"{where} lists a key twice; list each custom field key once"
    if _is_profile_field(path) and isinstance(value, str) and _field_kind(path) == "text":
        field = BY_NAME[path[2]] if len(path) == 3 else custom_field("Key")
        return text_problem(where, field, value) or (
            f"{where} is not a valid profile value; write text of at most 500 bytes (UTF-8)"
        )
    if path[:2] == ["app", "secret_key_env"]:  # never shown: it may be the key itself
        return (hints.secret_key_env_problem(value) if isinstance(value, str) else None) or (
            "app.secret_key_env is not an environment variable name; write the NAME of the variable "
            "that holds the key, e.g. secret_key_env: CHATSYNC_SECRET_KEY"
        )
    if path[:2] == ["app", "endpoint"]:
        return (endpoint_problem(value) if isinstance(value, str) else None) or (
            f"app.endpoint is not a base URL; write one, {ENDPOINT_EXAMPLE}"
        )
    if path[:2] in (["app", "admin"], ["app", "protected"]) and isinstance(value, str):
        return user_id_message(where, value) or (
            f"{where} {quote(value)} is not a UserID; write 1 to 32 bytes of printable text"
        )
    if path == ["app", "sdkappid"]:
        return f"app.sdkappid {shown} is not an SDKAppID (1 to 4294967295); copy it from the console"
    if path == ["app", "max_deletes"]:
        return f"app.max_deletes must be 0 or more, not {shown}; write e.g. max_deletes: 10"
    if path[:2] == ["app", "rate_limits"]:
        return f"{where} must be at least 1 call per second, not {shown}; raise it or remove it"
    if keyword == "enum":
        options = ", ".join(str(o) for o in _expected(error))
        return f"{where} must be one of {options}, not {shown}; pick one"
    return _generic(where, keyword, _expected(error), shown)


def _expected(error: ValidationError) -> Any:
    """What the failed keyword asked for (its value in the schema)."""
    return error.validator_value


def _shown(value: Any, text: str | None) -> Any:
    written = text if text is not None else value
    if isinstance(written, str) and hints.looks_like_key_value(written):
        return hints.HIDDEN
    if text is not None:
        return hints.piece(text)
    return quote(value) if isinstance(value, str) else value


def _version_message(shown: Any) -> str:
    return f"unsupported version {shown}; this chatsync reads version 1 only: write version: 1"


def _generic(where: str, keyword: str, expected: Any, shown: Any) -> str:
    """A worded message for a schema rule no specific message covers (jsonschema's never shows)."""
    rules = {
        "minimum": f"must be at least {expected}",
        "exclusiveMinimum": f"must be more than {expected}",
        "maximum": f"must be at most {expected}",
        "exclusiveMaximum": f"must be less than {expected}",
        "minLength": f"must be at least {expected} characters long",
        "maxLength": f"must be at most {expected} characters long",
        "minItems": f"must have at least {expected} items",
        "maxItems": f"must have at most {expected} items",
        "uniqueItems": "must not repeat an item",
        "const": f"must be {json.dumps(expected)}",
    }
    rule = rules.get(keyword, "is not allowed here")
    return f"{where} {rule}, not {shown}; fix it (docs/configuration.md lists every field)"
