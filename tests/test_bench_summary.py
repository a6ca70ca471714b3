"""`bench/run_all.py`'s one summary table, built from the figures each bench returns as data.

The figures here are written by hand (no bench is run): the table judges each target from them.
"""

from __future__ import annotations

from typing import Any

from bench.run_all import failed_benches, summary_rows, table


def _engine(nodes: int, evaluate: float, write: float, peak: float) -> dict[str, Any]:
    return {"nodes": nodes, "audited": nodes // 2, "findings": 0, "evaluate_s": evaluate, "evaluate_cpu_s": evaluate,
            "write_s": write, "write_cpu_s": write, "json_mb": 1.0, "eval_peak_mib": peak, "peak_mib": peak}


def _crawl(crawl_s: float, bound_s: float, naive_s: float, warm_requests: int = 0) -> dict[str, Any]:
    return {"manifest_models": 200, "distinct_models": 475, "latency_s": 0.05, "peak_in_flight": 20,
            "concurrency_start": 8, "bound_peak_s": bound_s, "bound_start_s": 3.1, "naive_s": naive_s,
            "cold_audit_s": crawl_s + 0.5, "cold_crawl_s": crawl_s, "cold_crawl_cpu_s": 1.0,
            "client_cpu_ms_per_request": 2.1, "crawl_vs_bound_peak": crawl_s / bound_s,
            "naive_vs_crawl": naive_s / crawl_s, "naive_vs_audit": naive_s / (crawl_s + 0.5), "cold_requests": 475,
            "warm_audit_s": 0.5, "cli_warm_s": 4.0, "warm_requests": warm_requests, "cli_warm_requests": 0}


def _survey(requests: int, warm: int = 0) -> dict[str, Any]:
    return {"cold_requests": requests, "models_read": 3405, "cold_survey_s": 9.0, "page_size": 1000, "pages": 4,
            "warm_requests": warm, "warm_survey_s": 3.0}


def _met(rows: list[tuple[str, str, str, str]], start: str) -> str:
    return next(row[3] for row in rows if row[0].startswith(start))


def test_every_target_is_judged_from_the_figures() -> None:
    rows = summary_rows({"engine": [_engine(1000, 0.1, 0.1, 100), _engine(100_000, 6.0, 2.0, 1500)],
                         "crawl": _crawl(crawl_s=1.5, bound_s=1.35, naive_s=26.0),
                         "survey": _survey(4), "others": {"bench_lock.py": 0}})
    assert _met(rows, "engine + audit.json, 100,000") == "yes"
    assert _met(rows, "engine + audit.json, 1,000") == ""  # no target of its own
    assert _met(rows, "cold crawl ÷ level bound") == "yes"  # 1.11×
    assert _met(rows, "naive loop ÷ cold crawl") == "yes"  # 17.3×
    assert _met(rows, "requests cold") == "yes"
    assert _met(rows, "warm audit") == "yes"
    assert _met(rows, "survey of the corpus listing") == "yes"
    assert _met(rows, "bench_lock.py") == "yes"


def test_a_missed_target_is_no() -> None:
    rows = summary_rows({"engine": [_engine(100_000, 9.0, 2.0, 1500)],  # 11 s
                         "crawl": _crawl(crawl_s=1.8, bound_s=1.35, naive_s=12.0, warm_requests=3),  # 1.33×, 6.7×
                         "survey": _survey(3405, warm=4), "others": {"bench_gguf.py": 1}})
    assert _met(rows, "engine + audit.json, 100,000") == "NO"
    assert _met(rows, "cold crawl ÷ level bound") == "NO"
    assert _met(rows, "naive loop ÷ cold crawl") == "NO"
    assert _met(rows, "warm audit") == "NO"
    assert _met(rows, "survey of the corpus listing") == "NO"
    assert _met(rows, "survey warm") == "NO"
    assert _met(rows, "bench_gguf.py") == "NO"


def test_too_much_memory_misses_the_engine_target() -> None:
    rows = summary_rows({"engine": [_engine(100_000, 3.0, 1.0, 2100)]})
    assert _met(rows, "engine + audit.json, 100,000") == "NO"


def test_quick_run_and_failed_benches_are_named() -> None:
    figures: dict[str, Any] = {"engine": [_engine(1000, 0.1, 0.1, 100)], "crawl": None, "survey": _survey(4),
                               "others": {"bench_lock.py": 2}}
    rows = summary_rows(figures)
    assert ("engine, 100,000 nodes", "not run (--quick)", "< 10 s, < 2 GiB", "") in rows
    assert _met(rows, "crawl (bench_crawl.py)") == "NO"
    assert failed_benches(figures, [1000, 3000]) == ["bench_engine.py --one 3000", "bench_crawl.py", "bench_lock.py"]


def test_table_is_one_markdown_table() -> None:
    text = table(summary_rows({"survey": _survey(4)}))
    lines = text.splitlines()
    assert lines[0] == "| figure | measured | target | met |" and lines[1] == "|---|---|---|---|"
    assert all(line.startswith("| ") and line.endswith(" |") and line.count(" | ") == 3 for line in lines[2:])
    assert len(lines) == 2 + 3  # the missing crawl, and the survey's two rows
