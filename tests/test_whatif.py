"""`auditor matrix`: one lineage evaluated under a grid of uses, each cell citing its first blocking clause."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.whatif import bands
from tests.hub.server import HubServer
from tests.test_cli import cli


def test_bands_fall_either_side_of_every_threshold() -> None:
    got = bands([700_000_000, 100_000_000, 700_000_000], None)
    assert [(b.label, b.value) for b in got] == [
        ("under 100M", 99_999_999), ("over 100M", 100_000_001), ("over 700M", 700_000_001)]
    assert [(b.label, b.value) for b in bands([], 5000)] == [("as declared", 5000)]
    assert [(b.label, b.value) for b in bands([], None)] == [("not declared", None)]


def _cells(hub: HubServer, ref: str) -> list[dict[str, object]]:
    run = cli("matrix", ref, "--endpoint", hub.endpoint, "--format", "json")
    assert run.code == 0, run.err
    return list(json.loads(run.out)["cells"])


def test_a_non_commercial_license_blocks_exactly_the_commercial_cells(hub: HubServer) -> None:
    """CC BY-NC 4.0 §2(a)(1)(A) licenses use "for NonCommercial purposes only"."""
    cells = _cells(hub, "CohereForAI/c4ai-command-r-plus")
    assert len(cells) == 12  # 3 distributions × commercial or not × EU or not; no user or revenue threshold
    for cell in cells:
        blocked = "non-commercial (cc-by-nc-4.0" in str(cell["blocking"])
        assert blocked == cell["commercial"], cell
        if cell["commercial"]:
            assert cell["verdict"] == "fail"


def test_llama_user_threshold_bands_and_the_vision_models_eu_exclusion(hub: HubServer) -> None:
    """Llama 3.1 §2: more than 700 million monthly active users at the release date needs Meta's
    license; the grid shows the band on each side of that line."""
    cells = _cells(hub, "meta-llama/Llama-3.1-8B-Instruct")
    assert {c["users_band"] for c in cells} == {"under 700M", "over 700M"}
    over = [c for c in cells if c["users_band"] == "over 700M"]
    assert over and all(c["verdict"] == "fail" and "user-threshold (llama3.1 §2)" in str(c["blocking"])
                        for c in over)
    assert not any("user-threshold" in str(c["blocking"]) for c in cells if c["users_band"] == "under 700M")


def test_a_saved_result_gives_the_same_matrix_offline(tmp_path: Path) -> None:
    manifest = cli("matrix", "examples/auditor.yaml", "--snapshot", "examples/snapshot", "--format", "json")
    assert manifest.code == 0, manifest.err
    audit = cli("audit", "examples/auditor.yaml", "--snapshot", "examples/snapshot", "--format", "json",
                "--out", tmp_path)
    assert audit.code == 1
    saved = cli("matrix", tmp_path / "audit.json", "--format", "json")
    assert saved.code == 0 and "warning" not in saved.err
    assert json.loads(saved.out)["cells"] == json.loads(manifest.out)["cells"]
    text = cli("matrix", tmp_path / "audit.json")
    assert text.out.startswith("What-if: Acme Support Assistant (7 models)")
    md = cli("matrix", tmp_path / "audit.json", "--format", "markdown")
    assert "| distribution | commercial | territory |" in md.out


def test_bad_matrix_inputs_are_one_line_errors(tmp_path: Path) -> None:
    bad = cli("matrix", "examples/auditor.yaml", "--format", "jsn")
    assert bad.code == 2 and "Did you mean 'json'" in bad.err
    missing = cli("matrix", tmp_path / "none.json")
    assert missing.code == 2 and "none.json" in missing.err and len(missing.err.strip().splitlines()) == 1


def test_a_saved_results_policy_is_never_silently_dropped(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("audit", "examples/auditor.yaml", "--snapshot", "examples/snapshot", "--format", "json",
               "--out", out).code == 1
    moved = tmp_path / "elsewhere.json"
    doc = json.loads((out / "audit.json").read_text())
    doc["manifest"] = str(tmp_path / "gone" / "auditor.yaml")
    moved.write_text(json.dumps(doc))
    run = cli("matrix", moved)
    assert run.code == 2 and "policy 'policy.yaml'" in run.err and "--policy" in run.err
    given = cli("matrix", moved, "--policy", "examples/policy.yaml", "--format", "json")
    assert given.code == 0 and "policy-deny" in given.out


def test_check_what_if_prints_the_matrix_of_one_model(hub: HubServer) -> None:
    run = cli("check", "CohereForAI/c4ai-command-r-plus", "--endpoint", hub.endpoint, "--what-if",
              "--purpose", "chat")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "What-if: CohereForAI/c4ai-command-r-plus"
    commercial = [line for line in lines if line.split()[1:2] == ["yes"]]
    assert len(commercial) == 6 and all("non-commercial (cc-by-nc-4.0" in line for line in commercial)
