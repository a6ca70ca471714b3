"""The model manifest: loading, line-numbered errors, resolved paths, schema and starter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditor.manifest import (
    Manifest,
    ManifestError,
    ModelEntry,
    format_loc,
    is_repo_id,
    load_manifest,
    manifest_json_schema,
    starter_manifest,
)
from auditor.model import DeclaredUse, ModelRef

FULL = """\
product: Acme Assistant
use:
  commercial: true
  monthly_active_users: 2000000
  annual_revenue_usd: 5000000
  distribution: saas
  regions: [EU, US]
  purposes: [chat-assistant]
policy: policy.yaml
rules: [./legal/rules]
models:
  - id: example-org/chat-model
    revision: 0e9e39f249a16976918f6564b8830bc894c89659
  - path: ./models/my-adapter
  - id: example-org/private-model
    license: apache-2.0
    base_model: example-org/base-model
    base_model_relation: finetune
    private: true
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path so messages name the manifest as given: `auditor.yaml:<line>: …`."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "auditor.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return Path(name)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture
def full_manifest(tmp_path: Path) -> Manifest:
    (tmp_path / "policy.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "legal" / "rules").mkdir(parents=True)
    return load_manifest(write(tmp_path, FULL))


# --------------------------------------------------------------------------- happy path


def test_full_manifest_loads_use_and_product(full_manifest: Manifest) -> None:
    assert full_manifest.product == "Acme Assistant"
    assert full_manifest.use == DeclaredUse(
        commercial=True,
        monthly_active_users=2_000_000,
        annual_revenue_usd=5_000_000,
        distribution="saas",
        regions=["EU", "US"],
        purposes=["chat-assistant"],
    )


def test_entries_keep_their_manifest_lines(full_manifest: Manifest) -> None:
    assert [m.line for m in full_manifest.models] == [12, 14, 15]


def test_paths_resolve_relative_to_the_manifest(full_manifest: Manifest, tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert full_manifest.source == root / "auditor.yaml"
    assert full_manifest.policy_path == root / "policy.yaml"
    assert full_manifest.rule_dirs == [root / "legal" / "rules"]
    local = full_manifest.models[1]
    assert local.ref.id == (root / "models" / "my-adapter").as_posix()
    assert Path(local.ref.id).is_absolute()


def test_refs(full_manifest: Manifest, tmp_path: Path) -> None:
    assert full_manifest.refs == [
        ModelRef(
            kind="hub", id="example-org/chat-model", revision="0e9e39f249a16976918f6564b8830bc894c89659"
        ),
        ModelRef(kind="local", id=(tmp_path.resolve() / "models" / "my-adapter").as_posix()),
        ModelRef(kind="hub", id="example-org/private-model"),
    ]


def test_declared_private_entry_normalises_strings_to_lists(full_manifest: Manifest) -> None:
    private = full_manifest.models[2]
    assert private.private is True
    assert private.license == ["apache-2.0"]
    assert private.base_model == ["example-org/base-model"]
    assert private.base_model_relation == "finetune"
    assert private.has_declared_facts
    assert not full_manifest.models[0].has_declared_facts


def test_minimal_manifest_defaults(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, "models:\n  - id: example-org/a\n"))
    assert manifest.use == DeclaredUse()
    assert manifest.policy_path is None
    assert manifest.rule_dirs == []
    assert manifest.models[0].display_name == "example-org/a"


def test_empty_use_section_means_nothing_declared(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, "use:\nmodels:\n  - id: example-org/a\n"))
    assert manifest.use == DeclaredUse()


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models: !!python/object/apply:os.system ['true']\n")
    assert message.startswith("auditor.yaml:1: manifest: invalid YAML:")


# --------------------------------------------------------------------------- errors


def test_unknown_key_names_line_path_and_suggestion(tmp_path: Path) -> None:
    text = "models:\n  - id: example-org/a\n  - id: example-org/b\n    revison: abc\n"
    message = error_of(tmp_path, text)
    assert message.startswith("auditor.yaml:4: models[1].revison: unknown key. Did you mean 'revision'?")
    assert "(allowed: id, path, gguf, ollama, dataset, revision, name, license," in message


def test_unknown_top_level_key_suggests_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, "modles:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:1: modles: unknown key. Did you mean 'models'?")


def test_unknown_use_key_lists_use_fields(tmp_path: Path) -> None:
    message = error_of(tmp_path, "use:\n  comercial: true\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.comercial: unknown key. Did you mean 'commercial'?")
    assert "monthly_active_users" in message


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    zzz: 1\n")
    assert message.startswith("auditor.yaml:3: models[0].zzz: unknown key. Remove it or fix its spelling")


def test_bad_enum_lists_allowed_values(tmp_path: Path) -> None:
    text = (
        "models:\n  - id: example-org/a\n    base_model: example-org/b\n    base_model_relation: finetuned\n"
    )
    message = error_of(tmp_path, text)
    assert message == (
        "auditor.yaml:4: models[0].base_model_relation: invalid value 'finetuned'. "
        "Did you mean 'finetune'? Allowed values: finetune, adapter, quantized, merge, distillation"
    )


def test_bad_distribution_value(tmp_path: Path) -> None:
    message = error_of(tmp_path, "use:\n  distribution: cloud\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.distribution: unknown distribution 'cloud'.")
    assert "Allowed: internal, saas, weights" in message


def test_wrong_type_names_the_line_and_a_fix(tmp_path: Path) -> None:
    text = "use:\n  commercial: true\n  monthly_active_users: lots\nmodels:\n  - id: example-org/a\n"
    message = error_of(tmp_path, text)
    assert message.startswith("auditor.yaml:3: use.monthly_active_users: input should be a valid integer")
    assert message.endswith("Write a whole number without quotes, e.g. 2000000")


def test_wrong_type_in_a_list_item(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    license: [mit, 5]\n")
    assert message.startswith(
        "auditor.yaml:3: models[0].license[1]: input should be a valid string (got number)"
    )


def test_license_must_be_string_or_list(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    license: {a: 1}\n")
    assert message.startswith("auditor.yaml:3: models[0].license: expected a string or a list of strings.")


def test_negative_count_rejected(tmp_path: Path) -> None:
    message = error_of(tmp_path, "use:\n  annual_revenue_usd: -1\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.annual_revenue_usd: ")
    assert message.endswith("Use a number that is 0 or more")


def test_both_id_and_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    path: ./here\n")
    assert message.startswith(
        "auditor.yaml:3: models[0].path: both `id` and `path` are set. Keep exactly one"
    )


def test_neither_id_nor_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n  - name: mystery\n")
    assert message.startswith("auditor.yaml:3: models[1]: neither `id`, `path`, `gguf`, `ollama` nor `dataset` is set.")


def test_revision_only_with_id(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - path: ./here\n    revision: main\n")
    assert message.startswith("auditor.yaml:3: models[0].revision: `revision` applies only to a Hub `id` or a Hub "
                              "dataset `dataset`.")


def test_relation_needs_base_model(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    base_model_relation: adapter\n")
    assert message.startswith("auditor.yaml:3: models[0].base_model_relation: `base_model_relation` is set")


@pytest.mark.parametrize(
    "bad",
    [
        "no-owner",
        "a/b/c",
        "../etc/passwd",
        "example-org/..",
        "example..org/x",
        "own er/x",
        "-org/x",
        "org/x.git",
        "org/" + "x" * 97,
    ],
)
def test_bad_repo_ids_rejected(tmp_path: Path, bad: str) -> None:
    message = error_of(tmp_path, f"models:\n  - id: example-org/a\n  - id: '{bad}'\n")
    assert message.startswith("auditor.yaml:3: models[1].id: ")
    assert "is not a Hub repo id. Write it as owner/name" in message


def test_bad_base_model_id_points_at_list_item(tmp_path: Path) -> None:
    text = "models:\n  - id: example-org/a\n    base_model:\n      - example-org/b\n      - not an id\n"
    message = error_of(tmp_path, text)
    assert message.startswith("auditor.yaml:5: models[0].base_model[1]: 'not an id' is not a Hub repo id.")


@pytest.mark.parametrize("good", ["example-org/example-model", "Org_1/Model-2.5_x", "a/b"])
def test_good_repo_ids(good: str) -> None:
    assert is_repo_id(good)


def test_empty_models_list(tmp_path: Path) -> None:
    message = error_of(tmp_path, "product: x\nmodels: []\n")
    assert message.startswith("auditor.yaml:2: models: the models list is empty.")


def test_missing_models(tmp_path: Path) -> None:
    message = error_of(tmp_path, "product: x\n")
    assert message.startswith("auditor.yaml:1: models: required key `models` is missing.")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    message = error_of(tmp_path, "- id: example-org/a\n")
    assert message.startswith("auditor.yaml:1: manifest: the top level is a list, not a mapping.")


def test_empty_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "# nothing\n")
    assert message.startswith("auditor.yaml:1: manifest: the file is empty.")


def test_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "product: x\nmodels:\n  - id: example-org/a\n  bad: [unclosed\n")
    assert message.startswith("auditor.yaml:")
    assert ": manifest: invalid YAML:" in message
    line = int(message.split(":")[1])
    assert line >= 4


def test_invalid_yaml_mapping_values(tmp_path: Path) -> None:
    message = error_of(tmp_path, "product: x\nuse: commercial: true\nmodels: []\n")
    assert message.startswith("auditor.yaml:2: manifest: invalid YAML: mapping values are not allowed in this context")


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n    id: example-org/b\n")
    assert message == "auditor.yaml:3: models[0].id: duplicate key. Keep only one `id:`"


def test_duplicate_models_are_errors(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\n  - id: Example-Org/A\n")
    assert message.startswith("auditor.yaml:3: models[1].id: duplicate model (first listed at line 2).")


def test_same_model_at_two_revisions_is_allowed(tmp_path: Path) -> None:
    text = "models:\n  - id: example-org/a\n    revision: v1\n  - id: example-org/a\n    revision: v2\n"
    assert len(load_manifest(write(tmp_path, text)).models) == 2


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ManifestError) as info:
        load_manifest(missing)
    assert str(info.value) == (
        f"{missing}:1: manifest: cannot read the file (No such file or directory). "
        "Check the path, or run `auditor init` to create one"
    )


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "auditor.yaml"
    path.write_bytes(b"product: \xff\xfe\n")
    with pytest.raises(ManifestError, match=r"auditor.yaml:1: manifest: not UTF-8 text"):
        load_manifest(path)


def test_missing_policy_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\npolicy: policy.yaml\n")
    assert message.startswith("auditor.yaml:3: policy: file not found:")


def test_missing_rule_folder_points_at_item(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    message = error_of(tmp_path, "rules:\n  - ./ok\n  - ./missing\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:3: rules[1]: folder not found:")


def test_error_carries_structured_fields(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, "models:\n  - id: example-org/a\n    revison: x\n"))
    assert (info.value.line, info.value.field) == (3, "models[0].revison")
    assert info.value.file.endswith("auditor.yaml")


def test_errors_are_reported_in_file_order(tmp_path: Path) -> None:
    text = "use:\n  distribution: cloud\nmodels:\n  - id: example-org/a\n    revison: x\n"
    assert error_of(tmp_path, text).startswith("auditor.yaml:2: use.distribution")


def test_format_loc() -> None:
    assert format_loc(("models", 1, "revison")) == "models[1].revison"
    assert format_loc(("rules", 0)) == "rules[0]"
    assert format_loc(()) == "manifest"


# --------------------------------------------------------------------------- schema and starter


def test_production_must_be_a_boolean(tmp_path: Path) -> None:
    message = error_of(tmp_path, "use:\n  commercial: false\n  production: sometimes\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:3: use.production: input should be a valid boolean")
    assert message.endswith("Write true or false")


def test_trains_on_outputs_must_be_a_boolean(tmp_path: Path) -> None:
    message = error_of(tmp_path, "use:\n  trains_on_outputs: sometimes\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.trains_on_outputs: input should be a valid boolean"), message
    assert "\n" not in message
    loaded = load_manifest(write(tmp_path, "use:\n  trains_on_outputs: true\nmodels:\n  - id: example-org/a\n"))
    assert loaded.use.trains_on_outputs is True


def test_distillation_is_a_declarable_relation(tmp_path: Path) -> None:
    """Cards never say a model was distilled: the manifest's `base_model_relation` can."""
    text = ("models:\n  - id: example-org/a\n    license: apache-2.0\n    base_model: google/gemma-3-4b-it\n"
            "    base_model_relation: distillation\n    private: true\n")
    assert load_manifest(write(tmp_path, text)).models[0].base_model_relation == "distillation"
    message = error_of(tmp_path, text.replace("distillation", "distiled"))
    assert message.startswith("auditor.yaml:5: models[0].base_model_relation:"), message
    assert "distillation" in message


def test_production_purpose_is_production_true_and_contradicts_false(tmp_path: Path) -> None:
    """Declaring the purpose `production` (or an alias) answers the `production` question."""
    loaded = load_manifest(write(tmp_path, "use:\n  purposes: [live-deployment]\nmodels:\n  - id: example-org/a\n"))
    assert loaded.use.production is True
    message = error_of(tmp_path, "use:\n  production: false\n  purposes: [production]\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.production: production: false contradicts the purpose 'production'")


def test_registered_licensors_are_folded_and_sorted(tmp_path: Path) -> None:
    text = "use:\n  registered: [StabilityAI, 01-ai, stabilityai]\nmodels:\n  - id: example-org/a\n"
    assert load_manifest(write(tmp_path, text)).use.registered == ["01-ai", "stabilityai"]
    text = "use:\n  registered: []\nmodels:\n  - id: example-org/a\n"
    assert load_manifest(write(tmp_path, text)).use.registered == []  # declared: registered with none


@pytest.mark.parametrize(("value", "loc", "fragment"), [
    ('[""]', "use.registered[0]", "empty licensor name"),
    ('""', "use.registered[0]", "empty licensor name"),
    ("[stabilityai, '']", "use.registered[1]", "empty licensor name"),
    ('["acme corp"]', "use.registered[0]", "licensor 'acme corp' is not a Hub organisation name"),
    ('["<script>x</script>"]', "use.registered[0]", "is not a Hub organisation name"),
    ('["' + "a" * 300 + '"]', "use.registered[0]", "…' is not a Hub organisation name"),
    ("[7]", "use.registered[0]", "input should be a valid string (got number)"),
    ("{a: 1}", "use.registered", "input should be a valid list"),
])
def test_bad_registered_values_are_located(tmp_path: Path, value: str, loc: str, fragment: str) -> None:
    message = error_of(tmp_path, f"use:\n  registered: {value}\nmodels:\n  - id: example-org/a\n")
    assert message.startswith(f"auditor.yaml:2: {loc}: "), message
    assert fragment in message and len(message) < 300, message


def test_users_at_release_are_one_count_or_one_per_license(tmp_path: Path) -> None:
    text = "use:\n  monthly_active_users_at_release: {Llama3.1: 650_000_000, llama2: 0}\nmodels:\n  - id: example-org/a\n"
    use = load_manifest(write(tmp_path, text)).use
    assert use.monthly_active_users_at_release == {"llama3.1": 650_000_000, "llama2": 0}
    assert (use.users_at_release("llama3.1"), use.users_at_release("llama3.2")) == (650_000_000, None)
    text = "use:\n  monthly_active_users_at_release: 0\nmodels:\n  - id: example-org/a\n"
    assert load_manifest(write(tmp_path, text)).use.users_at_release("llama3.2") == 0


@pytest.mark.parametrize(("value", "fragment"), [
    ("-1", "a user count cannot be negative"),
    ("{llama3.1: -5}", "llama3.1: a user count cannot be negative"),
    ("{llama3.1: many}", "llama3.1: 'many' is not a user count"),
    ("{'llama 3.1': 5}", "'llama 3.1' is not a license rule id"),
    ("[5]", "[5] is not a user count: give a number, or a number per license rule id"),
    ("{}", "empty mapping"),
    ("true", "True is not a user count"),
])
def test_bad_users_at_release_are_located(tmp_path: Path, value: str, fragment: str) -> None:
    message = error_of(tmp_path, f"use:\n  monthly_active_users_at_release: {value}\nmodels:\n  - id: example-org/a\n")
    assert message.startswith("auditor.yaml:2: use.monthly_active_users_at_release: "), message
    assert fragment in message and len(message) < 300, message


def test_json_schema_shows_the_use_questions() -> None:
    props = manifest_json_schema()["$defs"]["DeclaredUse"]["properties"]
    assert {"production", "registered", "trains_on_outputs", "monthly_active_users_at_release"} <= set(props)
    assert "train" in props["trains_on_outputs"]["description"]
    assert "calendar month before a license's version release date" in (
        props["monthly_active_users_at_release"]["description"])
    assert "end users" in props["production"]["description"]
    assert "registered with" in props["registered"]["description"]


def test_json_schema_forbids_extra_keys() -> None:
    schema = manifest_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["models"]
    entry = schema["$defs"]["ModelEntry"]
    assert entry["additionalProperties"] is False
    assert set(entry["properties"]) == set(ModelEntry.model_fields)
    assert "line" not in entry["properties"]
    relation = entry["properties"]["base_model_relation"]["anyOf"][0]
    assert relation["enum"] == ["finetune", "adapter", "quantized", "merge", "distillation"]
    assert {"type": "string"} in entry["properties"]["license"]["anyOf"]


def test_starter_manifest_loads(tmp_path: Path) -> None:
    text = starter_manifest()
    assert yaml.safe_load(text)["models"] == [{"id": "example-org/example-model"}]
    manifest = load_manifest(write(tmp_path, text))
    assert [m.ref.id for m in manifest.models] == ["example-org/example-model"]
    assert manifest.use == DeclaredUse()


def test_starter_commented_examples_are_valid_when_uncommented(tmp_path: Path) -> None:
    uncommented = "\n".join(
        line.replace("# ", "", 1) if line.lstrip().startswith(("# -", "#   ", "# ")) and ":" in line else line
        for line in starter_manifest().splitlines()
        if not line.startswith(("# auditor.yaml", "# `", "# How", "# any", "# policy", "# rules"))
    )
    manifest = load_manifest(write(tmp_path, uncommented))
    assert [m.display_name for m in manifest.models] == [
        "example-org/example-model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "./models/my-adapter",
        "acme/private-model",
    ]
    assert manifest.use.distribution == "saas"
    assert manifest.models[3].private is True


def test_non_string_keys_must_be_quoted(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - id: example-org/a\nyes: 1\n")
    assert message == "auditor.yaml:3: yes: YAML reads this key as a non-string. Quote it: 'yes':"


def test_model_entry_must_be_a_mapping(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models:\n  - example-org/a\n")
    assert message == (
        "auditor.yaml:2: models[0]: expected a mapping (got string). "
        "Write each model as a list item such as `- id: owner/name` or `- path: ./folder` or "
        "`- gguf: ./model.gguf` or `- ollama: llama3.1:8b` or `- dataset: datasets/owner/name`"
    )


def test_models_must_be_a_list(tmp_path: Path) -> None:
    message = error_of(tmp_path, "models: example-org/a\n")
    assert message.startswith("auditor.yaml:1: models: input should be a valid list (got string).")
