"""A realistic, hand-built `AuditResult` for the report tests (synthetic ids only).

Lineage (child -> parent):

    example-org/chat-adapter    --adapter-->   example-org/chat-model
    example-org/chat-model      --finetune-->  example-org/merged-base   (weak evidence only)
    example-org/merged-base     --merge-->     example-org/base-model
    example-org/merged-base     --merge-->     example-labs/math-model
    example-labs/math-model     --finetune-->  example-labs/missing-model   (unresolved: not-found)
    example-org/chat-model-gguf --quantized--> example-org/base-model

Roots (the manifest's models): `example-org/chat-adapter` (fail) and `example-org/chat-model-gguf`
(review). The gguf declares a custom license whose name carries `<script>alert(1)</script>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.model import (
    AuditResult,
    CatalogueLicense,
    Clause,
    DeclaredLicense,
    DeclaredUse,
    Disagreement,
    EdgeRecord,
    EffectiveLicense,
    Evidence,
    Finding,
    LineageGraph,
    ModelAudit,
    ModelFacts,
    NodeRecord,
    Obligation,
    ParentClaim,
    RuleSetInfo,
    Unresolved,
)

SCRIPT_NAME = "Custom <script>alert(1)</script> License"

ADAPTER = "example-org/chat-adapter"
CHAT = "example-org/chat-model"
MERGED = "example-org/merged-base"
BASE = "example-org/base-model"
MATH = "example-labs/math-model"
MISSING = "example-labs/missing-model"
GGUF = "example-org/chat-model-gguf"

RETRIEVED = "2025-06-01T11:58:00Z"
GENERATED = "2025-06-01T12:00:00Z"

SHA = {
    ADAPTER: "a1" * 20,
    CHAT: "c4" * 20,
    MERGED: "e7" * 20,
    BASE: "b2" * 20,
    MATH: "d9" * 20,
    GGUF: "f0" * 20,
}

COMMUNITY_CLAUSE_NAME = Clause(
    section="1.b.i",
    quote="If you distribute or make available the Example Materials (or any derivative works thereof), "
    'you shall prominently display "Built with Example Model".',
)
COMMUNITY_CLAUSE_DERIV = Clause(
    section="1.b.ii",
    quote="Derivative works of the Example Materials must be distributed under this Agreement.",
)
NC_CLAUSE = Clause(
    section="Section 2(a)(1)",
    quote="reproduce and Share the Licensed Material, in whole or in part, for NonCommercial purposes only",
)

APACHE = EffectiveLicense(
    license="apache-2.0",
    name="Apache License 2.0",
    spdx="Apache-2.0",
    kind="permissive",
    via=[ADAPTER],
    own=True,
    url="https://www.apache.org/licenses/LICENSE-2.0",
)
COMMUNITY_VIA_CHAT = EffectiveLicense(
    license="example-community-1.0",
    name="Example Community License 1.0",
    spdx="LicenseRef-example-community-1.0",
    kind="community",
    via=[ADAPTER, CHAT],
    own=False,
    url="https://example.com/example-community-license-1.0",
)
NC_VIA_MATH = EffectiveLicense(
    license="cc-by-nc-4.0",
    name="Creative Commons Attribution Non Commercial 4.0",
    spdx="CC-BY-NC-4.0",
    kind="non-commercial",
    via=[ADAPTER, CHAT, MERGED, MATH],
    own=False,
    url="https://creativecommons.org/licenses/by-nc/4.0/",
)
CUSTOM_OWN = EffectiveLicense(
    license="custom-gguf",
    name=SCRIPT_NAME,
    spdx="LicenseRef-custom-gguf",
    kind="unknown",
    via=[GGUF],
    own=True,
)
COMMUNITY_VIA_BASE = EffectiveLicense(
    license="example-community-1.0",
    name="Example Community License 1.0",
    spdx="LicenseRef-example-community-1.0",
    kind="community",
    via=[GGUF, BASE],
    own=False,
    url="https://example.com/example-community-license-1.0",
)

OB_BUILT_WITH = Obligation(
    id="built-with",
    license="example-community-1.0",
    text='Prominently display "Built with Example Model" on a related website, user interface, '
    "blogpost, about page, or product documentation.",
    clause=COMMUNITY_CLAUSE_NAME,
    models=[ADAPTER, GGUF],
)
OB_NOTICE = Obligation(
    id="notice-file",
    license="example-community-1.0",
    text='Retain the following attribution notice in a "Notice" text file distributed with all copies: '
    '"Example Model is licensed under the Example Community License, Copyright (c) Example Org. '
    'All Rights Reserved."',
    clause=Clause(
        section="1.b.iii", quote='Retain the following attribution notice within a "Notice" text file'
    ),
    models=[ADAPTER, GGUF],
)
OB_APACHE = Obligation(
    id="apache-notice",
    license="apache-2.0",
    text="Give recipients a copy of the Apache License 2.0 and retain all copyright, patent, trademark "
    "and attribution notices.",
    clause=Clause(
        section="Section 4(a)-(c)",
        quote="You must give any other recipients of the Work or Derivative Works a copy of this License",
    ),
    models=[ADAPTER],
)
OB_NC_CREDIT = Obligation(
    id="attribution",
    license="cc-by-nc-4.0",
    text="Give appropriate credit, provide a link to the license, and indicate if changes were made.",
    clause=Clause(
        section="Section 3(a)(1)", quote="identification of the creator(s) of the Licensed Material"
    ),
    models=[ADAPTER],
)


COMMUNITY_TEXT = (
    "EXAMPLE COMMUNITY LICENSE 1.0\n\n"
    "Copyright (c) Example Org. All Rights Reserved.\n\n"
    "1. License Rights and Redistribution.\n"
    "a. Grant of Rights. You are granted a non-exclusive, worldwide license to use the Example Materials.\n"
    "b. Redistribution and Use.\n"
    "i. If you distribute or make available the Example Materials (or any derivative works thereof), you shall "
    'prominently display "Built with Example Model".\n'
)

# The license catalogue as the engine writes it from the rules (the community license bundles its text;
# `custom-gguf` is no rule, so it is not in the catalogue).
CATALOGUE: dict[str, CatalogueLicense] = {
    "apache-2.0": CatalogueLicense(
        id="apache-2.0", name=APACHE.name, spdx=APACHE.spdx, kind=APACHE.kind, url=APACHE.url, version="2.0"
    ),
    "cc-by-nc-4.0": CatalogueLicense(
        id="cc-by-nc-4.0", name=NC_VIA_MATH.name, spdx=NC_VIA_MATH.spdx, kind=NC_VIA_MATH.kind, url=NC_VIA_MATH.url,
        version="4.0",
    ),
    "example-community-1.0": CatalogueLicense(
        id="example-community-1.0", name=COMMUNITY_VIA_CHAT.name, spdx=COMMUNITY_VIA_CHAT.spdx,
        kind=COMMUNITY_VIA_CHAT.kind, url=COMMUNITY_VIA_CHAT.url, version="1.0", text=COMMUNITY_TEXT,
        text_file="texts/example-community-1.0.txt",
        text_sha256="0" * 64,  # not checked by reports
        copyright=["Copyright (c) Example Org. All Rights Reserved."],
    ),
}

# What the engine reports each node declares (rule ids); the unresolved MISSING declares nothing known.
NODE_LICENSES: dict[str, list[str]] = {
    ADAPTER: ["apache-2.0"],
    GGUF: ["custom-gguf"],
    CHAT: ["example-community-1.0"],
    MERGED: ["example-community-1.0"],
    BASE: ["example-community-1.0"],
    MATH: ["cc-by-nc-4.0"],
}


def _ev(
    field: str, value: str, model: str, *, source: str = "hub", weak: bool = False, note: str = ""
) -> Evidence:
    return Evidence(
        source=source,
        field=field,
        value=value,
        location=f"https://huggingface.co/{model}/blob/{SHA.get(model, 'main')}/README.md",
        revision=SHA.get(model),
        weak=weak,
        note=note,
    )


def _facts(
    model: str,
    *,
    license: list[str],
    license_name: str | None = None,
    license_link: str | None = None,
    parents: list[ParentClaim] | None = None,
    author: str | None = "example-org",
    pipeline_tag: str = "text-generation",
    tags: list[str] | None = None,
) -> ModelFacts:
    return ModelFacts(
        id=model,
        requested=model,
        source="hub",
        sha=SHA[model],
        author=author,
        last_modified="2025-05-20T08:00:00Z",
        retrieved_at=RETRIEVED,
        pipeline_tag=pipeline_tag,
        library_name="transformers",
        tags=tags or [f"license:{x}" for x in license],
        declared=DeclaredLicense(
            license=license,
            license_name=license_name,
            license_link=license_link,
            tag_licenses=license,
            evidence=[_ev("cardData.license", ", ".join(license), model)],
        ),
        parents=parents or [],
        url=f"https://huggingface.co/{model}",
    )


def _edge(child: str, parent: str, relation: str, evidence: list[Evidence], weak: bool = False) -> EdgeRecord:
    return EdgeRecord(child=child, parent=parent, relation=relation, evidence=evidence, weak=weak)  # type: ignore[arg-type]


def build_result(*, complete: bool = False) -> AuditResult:
    """The fixture result. `complete=False` (the default) because one ancestor is unresolved."""
    e_adapter = _edge(
        ADAPTER,
        CHAT,
        "adapter",
        [
            _ev("adapter_config.json:base_model_name_or_path", CHAT, ADAPTER),
            _ev("cardData.base_model", CHAT, ADAPTER),
        ],
    )
    e_chat = _edge(
        CHAT,
        MERGED,
        "finetune",
        [_ev("config.json:_name_or_path", MERGED, CHAT, weak=True, note="only config.json names the parent")],
        weak=True,
    )
    e_merge_base = _edge(MERGED, BASE, "merge", [_ev("mergekit_config.yml:models", BASE, MERGED)])
    e_merge_math = _edge(MERGED, MATH, "merge", [_ev("mergekit_config.yml:models", MATH, MERGED)])
    e_math = _edge(MATH, MISSING, "finetune", [_ev("cardData.base_model", MISSING, MATH)])
    e_gguf = _edge(
        GGUF,
        BASE,
        "quantized",
        [_ev("cardData.base_model_relation", "quantized", GGUF), _ev("cardData.base_model", BASE, GGUF)],
    )

    def claims(*edges: EdgeRecord) -> list[ParentClaim]:
        return [ParentClaim(parent=e.parent, relation=e.relation, evidence=e.evidence[0]) for e in edges]

    nodes = [
        NodeRecord(
            id=ADAPTER,
            depth=0,
            facts=_facts(
                ADAPTER, license=["apache-2.0"], parents=claims(e_adapter), pipeline_tag="text-generation"
            ),
        ),
        NodeRecord(
            id=GGUF,
            depth=0,
            facts=_facts(
                GGUF,
                license=["other"],
                license_name="custom-gguf",
                parents=claims(e_gguf),
                author="example-quant",
            ),
        ),
        NodeRecord(
            id=CHAT,
            depth=1,
            facts=_facts(
                CHAT,
                license=["other"],
                license_name="example-community-1.0",
                license_link="https://example.com/community-license",
                parents=claims(e_chat),
            ),
        ),
        NodeRecord(
            id=MERGED,
            depth=2,
            facts=_facts(
                MERGED,
                license=["other"],
                license_name="example-community-1.0",
                parents=claims(e_merge_base, e_merge_math),
            ),
        ),
        NodeRecord(
            id=BASE,
            depth=1,
            facts=_facts(
                BASE,
                license=["other"],
                license_name="example-community-1.0",
                license_link="https://example.com/community-license",
            ),
        ),
        NodeRecord(
            id=MATH,
            depth=3,
            facts=_facts(MATH, license=["cc-by-nc-4.0"], parents=claims(e_math), author="example-labs"),
        ),
        NodeRecord(
            id=MISSING,
            depth=4,
            unresolved=Unresolved(
                id=MISSING,
                requested=MISSING,
                source="hub",
                code="not-found",
                reason="404 Repository Not Found for url: "
                "https://huggingface.co/api/models/example-labs/missing-model",
                retrieved_at=RETRIEVED,
            ),
        ),
    ]
    graph = LineageGraph(
        roots=[ADAPTER, GGUF],
        nodes=nodes,
        edges=[e_adapter, e_chat, e_merge_base, e_merge_math, e_math, e_gguf],
        disagreements=[
            Disagreement(
                model=CHAT,
                message="config.json names example-org/merged-base but the card has no base_model; "
                "the edge rests on weak evidence only",
            )
        ],
        requests=14,
        cache_hits=3,
    )

    adapter_findings = [
        Finding(
            code="non-commercial",
            severity="error",
            model=ADAPTER,
            message="Declared commercial use, but Creative Commons Attribution Non Commercial 4.0 applies "
            "through the merge ancestor example-labs/math-model.",
            license="cc-by-nc-4.0",
            clause=NC_CLAUSE,
            via=NC_VIA_MATH.via,
            remedy="Replace example-org/merged-base with a merge that excludes example-labs/math-model, "
            "or obtain a commercial license from its licensor.",
        ),
        Finding(
            code="license-conflict",
            severity="error",
            model=ADAPTER,
            message="Declares Apache License 2.0, but Example Community License 1.0 requires derivatives "
            "to be distributed under the same agreement.",
            license="example-community-1.0",
            clause=COMMUNITY_CLAUSE_DERIV,
            via=COMMUNITY_VIA_CHAT.via,
            remedy="Relicense the adapter under Example Community License 1.0 (keep Apache-2.0 only for "
            "your own code).",
        ),
        Finding(
            code="needs-input",
            severity="warning",
            model=ADAPTER,
            message="Example Community License 1.0 has a revenue threshold; annual revenue was not declared.",
            license="example-community-1.0",
            clause=Clause(section="2", quote="annual revenue greater than US$100 million"),
            via=COMMUNITY_VIA_CHAT.via,
            remedy="Declare use.annual_revenue_usd in the manifest.",
            field="annual_revenue_usd",
        ),
        Finding(
            code="lineage-disagreement",
            severity="info",
            model=ADAPTER,
            message="The edge example-org/chat-model -> example-org/merged-base rests only on config.json.",
            via=[ADAPTER, CHAT, MERGED],
            remedy="Confirm the base model with the publisher of example-org/chat-model.",
        ),
        Finding(
            code="unresolved",
            severity="warning",
            model=ADAPTER,
            message="Ancestor example-labs/missing-model could not be read (not-found).",
            via=[ADAPTER, CHAT, MERGED, MATH, MISSING],
            remedy="Pin a reachable revision or add a curated lineage fact.",
            waived=True,
            waiver="Accepted by legal@example.com on 2025-05-30: the math model is being removed.",
        ),
    ]
    gguf_findings = [
        Finding(
            code="unknown-license",
            severity="warning",
            model=GGUF,
            message=f"The card declares license_name custom-gguf ({SCRIPT_NAME}), which no rule encodes.",
            license="custom-gguf",
            remedy="Read the license text and add a rule file, or ask the publisher for a standard license.",
        ),
        Finding(
            code="registration",
            severity="info",
            model=GGUF,
            message="Example Community License 1.0: commercial use requires registration with the licensor.",
            license="example-community-1.0",
            clause=COMMUNITY_CLAUSE_NAME,
            via=COMMUNITY_VIA_BASE.via,
            remedy="Add the notice from NOTICE.txt to the product documentation.",
        ),
    ]
    models = [
        ModelAudit(
            id=ADAPTER,
            verdict="fail",
            declared=["apache-2.0"],
            effective_licenses=[APACHE, COMMUNITY_VIA_CHAT, NC_VIA_MATH],
            lineage=[CHAT, MERGED, BASE, MATH, MISSING],
            findings=adapter_findings,
            obligations=[OB_APACHE.id, OB_BUILT_WITH.id, OB_NOTICE.id, OB_NC_CREDIT.id],
            resolved=True,
            requested_as=f"{ADAPTER}@main",
            manifest_line=4,
        ),
        ModelAudit(
            id=GGUF,
            verdict="review",
            declared=["custom-gguf"],
            effective_licenses=[CUSTOM_OWN, COMMUNITY_VIA_BASE],
            lineage=[BASE],
            findings=gguf_findings,
            obligations=[OB_BUILT_WITH.id, OB_NOTICE.id],
            resolved=True,
            requested_as=GGUF,
            manifest_line=9,
        ),
    ]
    return AuditResult(
        tool_version="0.1.0",
        generated_at=GENERATED,
        verdict="fail",
        complete=complete,
        use=DeclaredUse(
            commercial=True,
            monthly_active_users=1_200_000,
            distribution="saas",
            regions=["EU", "US"],
            purposes=["customer-support"],
        ),
        product="Example Support Assistant",
        manifest="models.yaml",
        models=models,
        obligations=[OB_APACHE, OB_BUILT_WITH, OB_NOTICE, OB_NC_CREDIT],
        graph=graph,
        rules=RuleSetInfo(version="2025.06.1", digest="sha256:" + "3f" * 32, licenses=41),
        policy="default",
        node_licenses=NODE_LICENSES,
        license_catalogue=CATALOGUE,
    )


# --------------------------------------------------------------------------- the bundled example

EXAMPLE_MANIFEST = "examples/auditor.yaml"  # relative to the repository root, as in the README
EXAMPLE_SNAPSHOT = "examples/snapshot"
EXAMPLE_EPOCH = "1750000000"  # SOURCE_DATE_EPOCH of the example runs: 2025-06-15T15:06:40Z
# The example's two Meta bases: recorded in the snapshot, but gated on the Hub (an audit without access
# cannot read them). `unread_snapshot` drops them to make the incomplete audit the reports must flag.
EXAMPLE_GATED_BASES = ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.2-11B-Vision-Instruct")


def unread_snapshot(folder: Path, unread: tuple[str, ...] = EXAMPLE_GATED_BASES) -> Path:
    """A copy of the example snapshot in `folder` in which the models `unread` answer as the Hub answers an
    account without access to a gated repository (not-found), so an audit of the example is incomplete on
    purpose. Returns the snapshot folder."""
    import json

    root = Path(__file__).resolve().parent.parent
    doc = json.loads((root / EXAMPLE_SNAPSHOT / "snapshot.json").read_text(encoding="utf-8"))
    for model_id in unread:
        facts = doc["records"][model_id]["facts"]
        doc["records"][model_id] = {"unresolved": {
            "code": "not-found", "id": model_id, "requested": model_id, "source": "hub",
            "reason": "repository not found (or private: set HF_TOKEN if you have access)",
            "retrieved_at": facts["retrieved_at"],
        }}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snapshot.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder


def run_example_audit(out: Path, *args: str, manifest: str | Path = EXAMPLE_MANIFEST,
                      snapshot: str | Path = EXAMPLE_SNAPSHOT) -> Any:
    """Run the README's quick start in-process (`auditor audit examples/auditor.yaml --snapshot
    examples/snapshot --out OUT --format all`) from the repository root, offline, with
    SOURCE_DATE_EPOCH fixed; `args`, when given, replace `--format all`; `manifest` replaces the
    example manifest (its models must be in the snapshot or on disk), `snapshot` the example snapshot. Returns the click `Result`
    (exit code, output)."""
    import pytest
    from typer.testing import CliRunner

    from auditor.cli import app

    root = Path(__file__).resolve().parent.parent
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SOURCE_DATE_EPOCH", EXAMPLE_EPOCH)
        mp.setenv("AUDITOR_CACHE_DIR", str(out.parent / f"{out.name}-cache"))
        mp.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the snapshot stands in for the Hub
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.delenv("HF_TOKEN", raising=False)
        command = ["audit", str(manifest), "--snapshot", str(snapshot), "--out", str(out)]
        return CliRunner().invoke(app, [*command, *(args or ("--format", "all"))])
