"""Build the JSON Schema of the config from the code: the field table, the regions, the endpoints.

``chatsync/schemas/chatsync.schema.json`` (linked as ``schemas/chatsync.schema.json``) is generated
by ``python -m chatsync.config.schema_build`` (``make schema``) and committed, so editors can use it; a test
fails when the committed file is not what this module builds. The profile fields of a bot or an
account come from :data:`chatsync.facts.fields.STANDARD`, so adding a field needs no schema edit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chatsync.domain.kinds import KINDS, Kind
from chatsync.facts import limits
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import CUSTOM_KEY_MAX_BYTES, CUSTOM_SECTION, STANDARD, UINT32_MAX, Field
from chatsync.facts.regions import REGIONS

#: Where the schema is committed (the package ships it; ``schemas/`` links to it).
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "chatsync.schema.json"


def field_schema(f: Field) -> dict[str, Any]:
    """The schema of one profile field's value."""
    description = f"{f.description} ({f.tag})."
    if f.kind == "enum":
        return {"description": description, "enum": list(f.names)}
    if f.kind == "uint32":
        return {"description": description, "type": "integer", "minimum": 0, "maximum": UINT32_MAX}
    if f.max_bytes == limits.VALUE_MAX_BYTES:
        return {"description": description, "$ref": "#/$defs/value"}
    return {"description": description, "type": "string", "maxLength": f.max_bytes}


def build() -> dict[str, Any]:
    """The whole schema, as a JSON-ready dict."""
    principal_properties: dict[str, Any] = {f.name: field_schema(f) for f in STANDARD}
    principal_properties[CUSTOM_SECTION] = {
        "description": "Custom profile fields (Tag_Profile_Custom_<key>) by key; each key must be "
                       "listed in app.custom_fields. A key left out is unmanaged.",
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/custom_key"},
        "additionalProperties": {"$ref": "#/$defs/value"},
    }
    principal_properties["state"] = {
        "description": "present (default): must exist; absent: planned for deletion.",
        "enum": ["present", "absent"],
        "default": "present",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "chatsync desired state",
        "description": "Bots and accounts a Tencent Cloud Chat app must have. One or more files are merged; "
                       "exactly one of them holds the app: section. Reference: docs/configuration.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"description": "Format version of this file. Only 1 exists (the integer 1, not 1.0).",
                        "type": "integer", "const": 1},
            "app": {"$ref": "#/$defs/app"},
            **{kind.section: _section(kind) for kind in KINDS},
            "shared": {"$ref": "#/$defs/shared"},
            "overrides": _overrides(),
        },
        "patternProperties": {
            "^x-": {"description": "Extension section ignored by chatsync: a place for YAML anchors "
                                   "(&defaults) that merge keys (<<: *defaults) reuse."},
        },
        "$defs": {
            "app": _app(),
            "shared": _shared(),
            "user_id": {"description": "A UserID: 1 to 32 bytes (UTF-8), printable.",
                        "type": "string", "minLength": 1, "maxLength": limits.USER_ID_MAX_BYTES},
            **{f"{kind.name}_id": dict(kind.id_schema) for kind in KINDS},
            "principal": {
                "description": "Managed profile fields. A field left out is unmanaged; \"\" manages a text "
                               "field as empty. Empty (null) means: exists, profile unmanaged.",
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": principal_properties,
            },
            "override": {
                "description": "The fields an override replaces (a field left out keeps the declared value).",
                "type": "object",
                "additionalProperties": False,
                "properties": principal_properties,
            },
            **{kind.name: dict(kind.body_schema) for kind in KINDS if kind.body_schema is not None},
            **{f"{kind.name}_override": {
                **kind.body_schema, "type": "object",
                "description": f"The fields of a {kind.name} an override replaces (a field left out keeps "
                               "the declared value)."} for kind in KINDS if kind.body_schema is not None},
            "value": {"description": "A profile value: text of at most 500 bytes (UTF-8).",
                      "type": "string", "maxLength": limits.VALUE_MAX_BYTES},
            "custom_key": {"description": f"A custom profile field key: 1 to {CUSTOM_KEY_MAX_BYTES} English "
                                         "letters, as configured in the console.",
                           "type": "string", "pattern": f"^[A-Za-z]{{1,{CUSTOM_KEY_MAX_BYTES}}}$"},
        },
    }


def _section(kind: Kind) -> dict[str, Any]:
    """The schema of one kind's section: its ids (``$defs/<kind>_id``), each with a body (a kind's
    own, ``$defs/<kind>``, or profile fields, ``$defs/principal``)."""
    return {
        "description": kind.description,
        "type": ["object", "null"],
        "propertyNames": {"$ref": f"#/$defs/{kind.name}_id"},
        "additionalProperties": {"$ref": f"#/$defs/{'principal' if kind.body_schema is None else kind.name}"},
    }


def _app() -> dict[str, Any]:
    return {
        "description": "The app to manage (exactly once across all files).",
        "type": "object",
        "additionalProperties": False,
        "required": ["sdkappid"],
        "properties": {
            "sdkappid": {"description": "The app's SDKAppID.", "type": "integer", "minimum": 1,
                         "maximum": UINT32_MAX},
            "region": {"description": "Data centre of the app (mumbai is legacy). Default: china.",
                       "enum": list(REGIONS), "default": "china"},
            "endpoint": {"description": "Base URL overriding region, e.g. the emulator "
                                        "http://127.0.0.1:8080. http:// only for loopback hosts; no path, "
                                        "query "
                                        "or credentials.",
                         "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "admin": {"description": "The app admin account used for every call. Default: administrator. "
                                     "Always protected.",
                      "$ref": "#/$defs/user_id", "default": "administrator"},
            "secret_key_env": {"description": "NAME of the environment variable holding the app's secret key "
                                              "(never the key itself). Default: CHATSYNC_SECRET_KEY.",
                               "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                               "default": "CHATSYNC_SECRET_KEY"},
            "prune_bots": {"description": "Plan the deletion of live bots that no file declares. "
                                          "Default: false.",
                           "type": "boolean", "default": False},
            "prune_groups": {"description": "Plan the destruction of live groups that no file declares. "
                                            "Default: false.",
                             "type": "boolean", "default": False},
            "protected": {"description": "UserIDs chatsync never deletes (the admin always is).",
                          "type": "array", "items": {"$ref": "#/$defs/user_id"}},
            "max_deletes": {"description": "A plan deleting more than this many objects is unsafe and "
                                           "refused without --force. Default: 10.",
                            "type": "integer", "minimum": 0, "default": 10},
            "custom_fields": {"description": "Custom profile field keys configured for the app in the "
                                             "console (there is no API to create them); bots and accounts "
                                             "may use these keys under custom:.",
                              "type": "array", "items": {"$ref": "#/$defs/custom_key"},
                              "uniqueItems": True},
            "rate_limits": {"description": "Calls per second per API, for apps that bought higher limits "
                                           "than the documented ones.",
                            "type": "object",
                            "propertyNames": {"enum": list(ENDPOINTS)},
                            "additionalProperties": {"type": "integer", "minimum": 1}},
        },
    }


#: App settings that name one app: each environment's own, never shared.
IDENTITY = ("sdkappid", "region", "endpoint", "secret_key_env")


def _shared() -> dict[str, Any]:
    app = _app()
    return {
        "description": "App settings every environment shares (at most once across all files); each "
                       "environment's app: adds sdkappid, region or endpoint and secret_key_env. Where both "
                       "set a guardrail it can only tighten: protected ids add up, the smaller max_deletes "
                       "holds, and prune_bots and prune_groups are turned on only by an environment's own "
                       "app:. Any other setting is written in one of the two places. Reference: "
                       "docs/environments.md.",
        "type": "object",
        "additionalProperties": False,
        "properties": {name: sub for name, sub in app["properties"].items() if name not in IDENTITY},
    }


def _overrides() -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for kind_of_section in KINDS:
        section, kind = kind_of_section.section, kind_of_section.name
        body = "override" if kind_of_section.profile else f"{kind}_override"
        by = "UserID" if kind_of_section.profile else "id"
        sections[section] = {
            "description": f"{section.capitalize()} declared in another file, by {by}: the fields given "
                           "replace theirs for this run (each field whole; state too).",
            "type": "object",
            "propertyNames": {"$ref": f"#/$defs/{kind}_id"},
            "additionalProperties": {"$ref": f"#/$defs/{body}"},
        }
    return {
        "description": "Changes, for the environment this file belongs to, to bots, accounts and groups "
                       "declared in other files (e.g. a dev-only nick for a shared bot, a group's members "
                       "in dev). Reference: docs/environments.md.",
        "type": "object",
        "additionalProperties": False,
        "properties": sections,
    }


def text() -> str:
    """The schema as committed: indented JSON with a final newline."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write the schema file (``make schema``)."""
    SCHEMA_FILE.write_text(text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
