"""`auditor schema manifest|result|lock`: the JSON Schemas of the manifest, the result and the lock file."""

from __future__ import annotations

import json
from collections.abc import Mapping

import typer

from auditor.cli._common import guarded, sub_app

schema_app = sub_app("JSON Schemas of the manifest, the result and the lock file.\n\n"
                     "Example: auditor schema manifest > auditor.schema.json")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"  # what pydantic generates


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")


def _print_schema(schema: Mapping[str, object]) -> None:
    typer.echo(json.dumps({"$schema": JSON_SCHEMA_DIALECT, **schema}, indent=2, sort_keys=True))


@schema_app.command("result")
@guarded
def schema_result() -> None:
    """The JSON Schema of audit.json. Example: auditor schema result > result.schema.json"""
    from auditor.model import AuditResult

    _print_schema(AuditResult.model_json_schema())


@schema_app.command("manifest")
@guarded
def schema_manifest() -> None:
    """The JSON Schema of auditor.yaml. Example: auditor schema manifest > auditor.schema.json"""
    from auditor.manifest import manifest_json_schema

    _print_schema(manifest_json_schema())


@schema_app.command("lock")
@guarded
def schema_lock() -> None:
    """The JSON Schema of auditor.lock. Example: auditor schema lock > lock.schema.json"""
    from auditor.lock import LockFile

    _print_schema(LockFile.model_json_schema())
