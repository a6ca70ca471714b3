"""Hostile input never hangs or crashes: the manifest, policy and rule loaders, fed arbitrary YAML and bytes,
end in a result or in one located `AuditorError` (exit 2 from the CLI), within bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import AuditorError
from auditor.manifest import load_manifest
from auditor.policy import load_policy
from auditor.rules.loader import load_rules, validate_dirs
from tests.test_cli import cli

RULES = load_rules()
LIMIT_SECONDS = 5.0

# YAML-ish documents: real structure with hostile values (anchors, tags, dates, odd scalars, nesting).
_SCALARS = st.one_of(
    st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.sampled_from(["2027-02-30", "!!python/object:os.system x", "*a", "&a x", "~", "0x1F", "1e999", ".nan",
                     "Europe", "defens", "non-comercial", "apache2", "llama9*", "\x00", "\ufeff", "''", "[", "{"]),
)
_KEYS = st.sampled_from(["use", "models", "id", "path", "policy", "rules", "product", "regions", "purposes",
                         "domicile", "markets", "distribution", "commercial", "allow", "deny", "review",
                         "severity", "waivers", "code", "model", "expires", "license", "base_model", "x"])
_TREES = st.recursive(_SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                      st.dictionaries(_KEYS, kids, max_size=5)), max_leaves=25)


def _documents() -> st.SearchStrategy[bytes]:
    dumped = _TREES.map(lambda tree: yaml.safe_dump(tree, allow_unicode=True).encode("utf-8", "surrogatepass"))
    raw_text = st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))
    return st.one_of(dumped, raw_text, st.binary(max_size=300))


def _bounded(load: object, path: Path) -> None:
    start = time.monotonic()
    try:
        load(path)  # type: ignore[operator]
    except AuditorError as err:
        message = str(err)
        assert "\n" not in message and str(path) in message, message
    assert time.monotonic() - start < LIMIT_SECONDS


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents())
def test_manifest_loader_never_crashes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "auditor.yaml"
    path.write_bytes(data)
    _bounded(load_manifest, path)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents())
def test_policy_loader_never_crashes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(data)
    _bounded(lambda p: load_policy(p, RULES), path)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents())
def test_rule_validation_never_crashes(tmp_path: Path, data: bytes) -> None:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "acme.yaml").write_bytes(data)
    start = time.monotonic()
    errors, count = validate_dirs([folder])
    assert count == 1 and time.monotonic() - start < LIMIT_SECONDS
    assert all("\n" not in e and "acme.yaml" in e for e in errors)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents())
def test_cli_exit_codes_stay_in_range(tmp_path: Path, data: bytes) -> None:
    """Through the CLI: exit 0-3, never a traceback or an internal error (`cli` asserts both)."""
    manifest = tmp_path / "auditor.yaml"
    manifest.write_bytes(data)
    snapshot = Path(__file__).resolve().parents[1] / "examples" / "snapshot"
    run = cli("audit", manifest, "--snapshot", snapshot, "--format", "json", "--out", tmp_path / "out")
    assert run.code in (0, 1, 2, 3)
    if run.code == 2:
        assert len(run.err.splitlines()) == 1 and run.err.startswith("error: ")


def test_a_deeply_nested_snapshot_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text("[" * 100_000 + "]" * 100_000)
    run = cli("lineage", "example-org/a", "--snapshot", tmp_path)
    assert run.code == 2 and run.err.startswith("error: ") and len(run.err.splitlines()) == 1


def test_an_oversized_or_deeply_nested_hub_answer_is_malformed_not_a_crash() -> None:
    from auditor.model import ModelRef, Unresolved
    from auditor.sources.hub import MAX_BODY_BYTES, HubSource
    from tests.conftest import FAST_RETRY
    from tests.hub.recorded import api_body
    from tests.hub.server import HubServer, HubState

    huge = api_body("example-org/huge", {"license": "mit", "padding": "x" * (MAX_BODY_BYTES + 1)})
    state = HubState(models={"example-org/huge": huge})
    with HubServer(state) as server:
        source = HubSource(endpoint=server.endpoint, token=False, retry=FAST_RETRY, seed=1)
        result = source.fetch(ModelRef(kind="hub", id="example-org/huge"))
    assert isinstance(result, Unresolved) and result.code == "malformed"
    assert "over the 10,485,760-byte limit" in result.reason
