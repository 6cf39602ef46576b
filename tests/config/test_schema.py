"""The packaged JSON Schema: one file, valid, in step with the code, and its fast predicates exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from chatsync.config import schema_build
from chatsync.config.schema import (
    StrictValidator,
    compile_predicate,
    load_schema,
    schema_text,
)
from chatsync.domain.model import PROFILE_FIELDS
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.regions import REGIONS

ROOT = Path(__file__).resolve().parents[2]


def test_top_level_schema_is_the_packaged_file() -> None:
    top = ROOT / "schemas" / "chatsync.schema.json"
    packaged = ROOT / "chatsync" / "schemas" / "chatsync.schema.json"
    assert top.is_symlink()
    assert top.read_bytes() == packaged.read_bytes() == schema_text().encode("utf-8")


@pytest.mark.parametrize("name", ["gitops", "quickstart"])
def test_each_example_keeps_its_own_copy_and_points_at_it(name: str) -> None:
    """A config repository made from an example keeps the schema beside its configs (its
    ``$schema`` comments must not point into chatsync's own tree, which a copy does not have)."""
    example = ROOT / "examples" / name
    copy = example / "chatsync.schema.json"
    assert not copy.is_symlink()
    assert copy.read_text(encoding="utf-8") == schema_text(), "stale: run make schema"
    configs = [*example.glob("*.yaml"), *example.glob("bots/*.yaml"), *example.glob("envs/*/*.yaml")]
    assert configs
    for config in configs:
        first = config.read_text(encoding="utf-8").splitlines()[0]
        target = first.removeprefix("# yaml-language-server: $schema=")
        assert target != first, f"{config} has no $schema comment"
        assert (config.parent / target).resolve() == copy.resolve(), config


def test_committed_schema_is_the_one_the_field_table_builds() -> None:
    # stale after a change to chatsync/facts/fields.py (or regions, endpoints): run make schema
    assert schema_text() == schema_build.text(), "the committed schema is stale: run make schema"
    # make schema writes the very file the package ships
    assert schema_build.SCHEMA_FILE.read_text(encoding="utf-8") == schema_build.text()


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_is_in_step_with_the_code() -> None:
    defs = load_schema()["$defs"]
    assert defs["app"]["properties"]["region"]["enum"] == list(REGIONS)
    assert defs["app"]["properties"]["rate_limits"]["propertyNames"]["enum"] == list(ENDPOINTS)
    assert set(defs["principal"]["properties"]) == {*PROFILE_FIELDS, "custom", "state"}
    assert defs["value"]["maxLength"] == 500
    assert defs["user_id"]["maxLength"] == 32


def _no_additional_properties_missing(node: object) -> list[str]:
    missing = []
    if isinstance(node, dict):
        if "properties" in node and node.get("additionalProperties") is not False:
            missing.append(json.dumps(sorted(node["properties"]))[:60])
        for value in node.values():
            missing += _no_additional_properties_missing(value)
    return missing


def test_every_object_schema_refuses_unknown_keys() -> None:
    assert _no_additional_properties_missing(load_schema()) == []


def test_strict_integers_refuse_bools_and_floats() -> None:
    validator = StrictValidator({"type": "integer"})
    assert validator.is_valid(3)
    assert not validator.is_valid(True)
    assert not validator.is_valid(3.0)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(alphabet="名a", min_size=120, max_size=520),
    st.sampled_from(["present", "absent", "@RBT#x", "@TLS#y", ""]),
)
_keys = st.sampled_from([*PROFILE_FIELDS, "state", "nik", "secret"])
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=8,
)
_ids = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["@RBT#", "@TLS#", "@TIM#", "@TGS#", "@rbt#"]).flatmap(
        lambda p: st.text(max_size=30).map(lambda t: p + t)
    ),
)


@settings(max_examples=400, deadline=None)
@given(value=_values, user_id=_ids)
def test_fast_predicates_agree_with_jsonschema(value: object, user_id: str) -> None:
    schema = load_schema()
    for name in ("principal", "value", "bot_id", "account_id", "user_id"):
        sub = {**schema["$defs"][name], "$defs": schema["$defs"]}
        predicate = compile_predicate(schema["$defs"][name])
        assert predicate is not None, name
        validator = StrictValidator(sub)
        for instance in (value, user_id):
            assert predicate(instance) == validator.is_valid(instance), (name, instance)


def test_configuration_reference_lists_every_field() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    defs = load_schema()["$defs"]
    fields = [*defs["app"]["properties"], *defs["principal"]["properties"], *defs["group"]["properties"],
              *load_schema()["properties"]]
    for name in fields:
        assert f"| `{name}` |" in reference, name
    for name in ENDPOINTS:
        assert f"`{name}`" in reference, name
    for name in REGIONS:
        assert f"`{name}`" in reference, name


# -- the whole-document predicate: a valid file needs no jsonschema ---------------------------------

CORPUS = sorted((ROOT / "tests" / "config" / "corpus").glob("*/*.yaml"))


def _thin_of(path: Path) -> object:
    from chatsync.config.schema import _thin
    from chatsync.config.yaml_loader import read_text

    root, _ = read_text(str(path), path.read_bytes())
    return None if root is None else _thin(root)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_document_predicate_agrees_with_jsonschema_on_the_corpus(path: Path) -> None:
    from chatsync.config.schema import _document_predicate

    document = _thin_of(path)
    if document is None:
        return  # not YAML at all: no schema check happens
    predicate = _document_predicate()
    assert predicate is not None
    assert predicate(document) == StrictValidator(load_schema()).is_valid(document)


_documents = st.dictionaries(
    st.sampled_from(["version", "app", "bots", "accounts", "x-anchor", "other", "xray"]),
    st.one_of(_values, st.just(1), st.just(1.0), st.just(True),
              st.fixed_dictionaries({"sdkappid": st.one_of(st.integers(-2, 2**33), _values)},
                                    optional={"custom_fields": st.lists(st.one_of(st.sampled_from(
                                        ["Dept", "Tier", "Dept"]), _values), max_size=3),
                                        "protected": st.lists(_ids, max_size=2)})),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(document=_documents)
def test_the_document_predicate_agrees_with_jsonschema(document: dict[str, object]) -> None:
    from chatsync.config.schema import _document_predicate

    predicate = _document_predicate()
    assert predicate is not None
    assert predicate(document) == StrictValidator(load_schema()).is_valid(document), document


def test_a_valid_file_is_checked_without_importing_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "c.yaml"
    config.write_text("version: 1\napp:\n  sdkappid: 1400000000\n  custom_fields: [Dept]\n"
                      "accounts:\n  alice:\n    nick: Alice\n", encoding="utf-8")
    probe = ("import sys; from chatsync.config import load; load([sys.argv[1]]); "
             "print('jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, str(config)], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "False"
    config.write_text("version: 1\napp:\n  sdkappid: -1\n", encoding="utf-8")  # the control
    done = subprocess.run([sys.executable, "-c", probe.replace("load([sys.argv[1]]); ", "")
                           + "\ntry:\n    load([sys.argv[1]])\nexcept Exception:\n    pass\n"
                           "print('jsonschema' in sys.modules)", str(config)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.stdout.split() == ["False", "True"], done.stderr
