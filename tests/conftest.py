"""Shared fixtures: the loopback Hub (real huggingface_hub client pointed at it) and sources."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from auditor.lineage import RoutingSource
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import HubSource, RetryPolicy
from auditor.sources.local import LocalSource
from tests.hub.recorded import all_real_bodies
from tests.hub.server import Fault, HubServer, HubState
from tests.hub.synthetic import synthetic_bodies

FAST_RETRY = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05, max_retry_after=2.0, timeout=5.0)


def default_state() -> HubState:
    models = all_real_bodies()
    models.update(synthetic_bodies())
    return HubState(
        models=models,
        redirects={"example-org/renamed-old": "example-org/renamed-new"},
        faults={
            "example-org/deleted-base": Fault(status=404, error_code="RepoNotFound"),
            "example-org/gated-base": Fault(status=403, error_code="GatedRepo"),
            "example-org/flaky": Fault(fail_503=2),
            "example-org/throttled": Fault(rate_limit=1, retry_after=1),
            "example-org/broken-json": Fault(malformed=True),
        },
    )


@pytest.fixture()
def hub_state() -> HubState:
    return default_state()


@pytest.fixture()
def hub(hub_state: HubState) -> Iterator[HubServer]:
    with HubServer(hub_state) as server:
        yield server


@pytest.fixture()
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture()
def hub_source(hub: HubServer, cache_dir: Path) -> HubSource:
    return HubSource(endpoint=hub.endpoint, token=False, cache=MetadataCache(cache_dir), retry=FAST_RETRY, seed=1)


@pytest.fixture()
def source(hub_source: HubSource) -> RoutingSource:
    return RoutingSource(hub=hub_source, local=LocalSource())


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's cache, token or a real Hub endpoint."""
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "auditor-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: a leak fails fast
    # Reports read these (a run's link, the SARIF artifact root): a CI runner's own must not leak in.
    for name in ("AUDITOR_REPORT_URL", "GITHUB_WORKSPACE", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def bundled_rules_once() -> Iterator[None]:
    """The bundled rule files parsed once for the requesting module (each in-process CLI run would spend
    1–2 s parsing them); a call with organisation folders still loads them."""
    from auditor.rules import loader

    real = loader.load_rules
    bundled = real()

    def load_rules(extra_dirs: Iterable[Path] = ()) -> loader.RuleSet:
        extra = list(extra_dirs)
        return real(extra) if extra else bundled

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader, "load_rules", load_rules)
        yield
