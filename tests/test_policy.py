"""Organisation policy: allow/review/deny globs, severity overrides, waivers with expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from auditor.policy import Policy, PolicyError, Waiver, classify, find_waiver, load_policy


def test_deny_beats_review_beats_allow() -> None:
    policy = Policy(allow=["llama*", "apache-2.0"], review=["llama3.2"], deny=["cc-by-nc-*"])
    assert classify("cc-by-nc-4.0", policy) == "deny"
    assert classify("llama3.2", policy) == "review"
    assert classify("llama3.1", policy) == "allow"
    assert classify("mit", policy) == "unlisted"


def test_waiver_matching() -> None:
    waiver = Waiver(model="example-org/*", code="non-commercial", license="cc-by-nc-4.0",
                    justification="Research-only deployment, reviewed", approver="legal@example.com",
                    expires=dt.date(2030, 1, 1))
    policy = Policy(waivers=[waiver])
    assert find_waiver(policy, ["example-org/bot"], "non-commercial", "cc-by-nc-4.0") == (waiver, "example-org/bot")
    assert find_waiver(policy, ["example-org/bot"], "non-commercial", "mrl") is None
    assert find_waiver(policy, ["other-org/bot"], "non-commercial", "cc-by-nc-4.0") is None
    # A renamed repo: the waiver names its former id, which the model was requested as.
    assert find_waiver(policy, ["new-org/bot", "example-org/bot"], "non-commercial", "cc-by-nc-4.0") == (
        waiver, "example-org/bot")


def test_waiver_needs_a_justification_and_an_approver() -> None:
    with pytest.raises(ValueError):
        Waiver(model="m", code="c", justification="short", approver="", expires=dt.date(2030, 1, 1))


def test_load_policy_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("allow: [mit]\nwaivers:\n  - model: x/y\n    code: non-commercial\n    justification: ok ok ok ok\n"
                    "    approver: me\n    expires: someday\n")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = str(err.value)
    assert message.startswith(f"{path}:7: waivers[0].expires:") and "\n" not in message


def test_load_policy_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("allow: [mit]\nblock: [gpl-3.0]\n")
    with pytest.raises(PolicyError, match=r":2: block"):
        load_policy(path)


def test_example_policy_loads() -> None:
    policy = load_policy(Path(__file__).resolve().parents[1] / "examples" / "policy.yaml")
    assert policy.deny and policy.waivers
