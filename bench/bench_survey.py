"""Survey benchmark: `auditor survey` of the 3,405-card corpus listing behind the loopback Hub.

    python bench/bench_survey.py [--latency 0.05] [--page-size 1000]

Prints the requests made against the models read (one request per page instead of one per model), the cold
time of the listing and of the whole survey (listing, lineage, engine, families), the warm rerun (pages from
the cache: 0 requests), and what one request per model would cost at the same latency, sequentially.
Targets (issue 16): cold requests == ⌈models ÷ page size⌉; warm requests == 0.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the loopback Hub waits per request")
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    state = HubState(models=corpus_bodies(), latency=args.latency)
    with tempfile.TemporaryDirectory() as tmp, HubServer(state) as hub:
        cache = Path(tmp) / "cache"
        cold, cold_listing, cold_total = _survey(hub.endpoint, cache, args.page_size)
        after_cold = state.total_requests()
        warm, warm_listing, warm_total = _survey(hub.endpoint, cache, args.page_size)
        warm_requests = state.total_requests() - after_cold
    models = len(cold.listing.facts)
    pages = math.ceil(models / args.page_size)
    data = survey_dict(cold)
    print(f"models read            {models:,}  ({data['totals']['families']:,} families; cases "
          f"{data['totals']['cases_by_code']})")
    print(f"requests (cold)        {cold.page_requests}  (⌈{models:,} ÷ {args.page_size}⌉ = {pages}; "
          f"{models / max(1, cold.page_requests):,.0f} models a request)")
    print(f"cold listing           {cold_listing:.2f} s  ({args.latency * 1000:.0f} ms a request)")
    print(f"cold survey            {cold_total:.2f} s  (listing, lineage, engine, families)")
    print(f"requests (warm)        {warm_requests}  ({warm.page_cache_hits} pages from the cache)")
    print(f"warm listing           {warm_listing:.2f} s")
    print(f"warm survey            {warm_total:.2f} s")
    print(f"one request per model  ≥ {models * args.latency:.1f} s  ({models:,} × {args.latency * 1000:.0f} ms, "
          "sequential)")
    ok = cold.page_requests == pages and warm_requests == 0
    print(f"targets met            {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
