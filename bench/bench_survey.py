"""Survey benchmark: `auditor survey` of the 3,405-card corpus listing behind the loopback Hub.

    python bench/bench_survey.py [--latency 0.05] [--page-size 1000] [--json-out F]

Prints the requests made against the models read (one request per page instead of one per model), the cold
time of the listing and of the whole survey (listing, lineage, engine, families), the warm rerun (pages from
the cache: 0 requests), and what one request per model would cost at the same latency, sequentially (`run()`
returns the same figures as a dict, for `run_all.py`).
Targets (issue 16): cold requests == ⌈models ÷ page size⌉; warm requests == 0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.model import DeclaredUse  # noqa: E402
from auditor.rules.loader import load_rules  # noqa: E402
from auditor.sources.base import SourceOptions  # noqa: E402
from auditor.sources.cache import MetadataCache  # noqa: E402
from auditor.survey import Survey, SurveyQuery, run_survey  # noqa: E402
from auditor.survey.listing import PageReader  # noqa: E402
from auditor.survey.render import survey_dict  # noqa: E402
from tests.hub.recorded import corpus_bodies  # noqa: E402
from tests.hub.server import HubServer, HubState  # noqa: E402


def _survey(endpoint: str, cache: Path, page_size: int) -> tuple[Survey, float, float]:
    """One survey: (result, listing seconds, total seconds)."""
    rules = load_rules()
    reader = PageReader(endpoint=endpoint, token=False, cache=MetadataCache(cache))
    marks: list[float] = []
    start = time.perf_counter()
    survey = run_survey(SurveyQuery(page_size=page_size), SourceOptions(endpoint=endpoint, cache_dir=cache), rules,
                        DeclaredUse(), reader=reader,
                        progress=lambda page, n: marks.append(time.perf_counter()))
    survey_dict(survey)  # families and counts, as the reports hold them
    total = time.perf_counter() - start
    return survey, (marks[-1] - start) if marks else 0.0, total


def run(latency: float = 0.05, page_size: int = 1000) -> dict[str, Any]:
    """Every figure of the bench, as data (`report` prints them; `bench/run_all.py` collects them)."""
    state = HubState(models=corpus_bodies(), latency=latency)
    with tempfile.TemporaryDirectory() as tmp, HubServer(state) as hub:
        cache = Path(tmp) / "cache"
        cold, cold_listing, cold_total = _survey(hub.endpoint, cache, page_size)
        after_cold = state.total_requests()
        warm, warm_listing, warm_total = _survey(hub.endpoint, cache, page_size)
        warm_requests = state.total_requests() - after_cold
    models = len(cold.listing.facts)
    pages = math.ceil(models / page_size)
    totals = survey_dict(cold)["totals"]
    return {
        "latency_s": latency, "page_size": page_size, "models_read": models, "families": totals["families"],
        "cases_by_code": totals["cases_by_code"], "cold_requests": cold.page_requests, "pages": pages,
        "cold_listing_s": cold_listing, "cold_survey_s": cold_total, "warm_requests": warm_requests,
        "warm_page_cache_hits": warm.page_cache_hits, "warm_listing_s": warm_listing, "warm_survey_s": warm_total,
        "one_request_per_model_s": models * latency,
        "targets_met": cold.page_requests == pages and warm_requests == 0,
    }


def report(f: dict[str, Any]) -> None:
    """The figures of `run`, one per line."""
    models, size, ms = f["models_read"], f["page_size"], f["latency_s"] * 1000
    print(f"models read            {models:,}  ({f['families']:,} families; cases {f['cases_by_code']})")
    print(f"requests (cold)        {f['cold_requests']}  (⌈{models:,} ÷ {size}⌉ = {f['pages']}; "
          f"{models / max(1, f['cold_requests']):,.0f} models a request)")
    print(f"cold listing           {f['cold_listing_s']:.2f} s  ({ms:.0f} ms a request)")
    print(f"cold survey            {f['cold_survey_s']:.2f} s  (listing, lineage, engine, families)")
    print(f"requests (warm)        {f['warm_requests']}  ({f['warm_page_cache_hits']} pages from the cache)")
    print(f"warm listing           {f['warm_listing_s']:.2f} s")
    print(f"warm survey            {f['warm_survey_s']:.2f} s")
    print(f"one request per model  ≥ {f['one_request_per_model_s']:.1f} s  ({models:,} × {ms:.0f} ms, sequential)")
    print(f"targets met            {'yes' if f['targets_met'] else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the loopback Hub waits per request")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--json-out", type=Path, help="also write the figures to this file, as JSON")
    args = parser.parse_args()
    figures = run(args.latency, args.page_size)
    report(figures)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
