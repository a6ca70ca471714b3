"""License coverage figures for the closing note of issue "Legal accuracy" (offline, deterministic).

    python bench/coverage.py [--corpus ../shared/hub-corpus/cards.jsonl]

Prints: the Hub's official license ids with a rule (the list is the tests' data,
`tests/test_rule_coverage_oss.py`), the corpus cards whose declared license maps to rules, the distinct corpus
`license` / `license_name` values recognised, and ModelGo Analyzer's licenses covered (the `short_id`s of
Xtra-Computing/ModelGo@13d2eb45c78a01dc29f62399e69dc4c3226f1e94:licenses_description.yml, mapped by hand below).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.rules.loader import RuleSet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# ModelGo Analyzer's license list (short_id as written there) -> our rule id, None where no rule exists.
MODELGO: dict[str, str | None] = {
    "Apache-2.0": "apache-2.0", "Unlicense": "unlicense", "MIT": "mit", "AFL-3.0": "afl-3.0",
    "Artistic-3.0": "artistic-2.0",  # its full_name and url are the Artistic License 2.0
    "GPL-3.0": "gpl-3.0", "AGPL-3.0": "agpl-3.0", "LGPL-3.0": "lgpl-3.0", "LGPL-2.1": "lgpl-2.1",
    "BSD-3-Clause": "bsd-3-clause", "BSD-3-Clause-Clear": "bsd-3-clause-clear", "BSD-2-Clause": "bsd-2-clause",
    "WTFPL-2.0": "wtfpl", "OSL-3.0": "osl-3.0", "ECL-2.0": "ecl-2.0", "CC0-1.0": "cc0-1.0", "CC-BY-4.0": "cc-by-4.0",
    "CC-BY-SA-4.0": "cc-by-sa-4.0", "CC-BY-NC-4.0": "cc-by-nc-4.0", "CC-BY-ND-4.0": "cc-by-nd-4.0",
    "CC-BY-NC-ND-4.0": "cc-by-nc-nd-4.0", "CC-BY-NC-SA-4.0": "cc-by-nc-sa-4.0", "PDDL": "pddl", "C-UDA": "c-uda",
    "LGPL-LR": "lgpl-lr", "GFDL": "gfdl", "OpenRAIL++": "openrail++", "CreativeML-OpenRAIL-M": "creativeml-openrail-m",
    "BigScience-BLOOM-RAIL-1.0": "bigscience-bloom-rail-1.0",
    "BigScience Open RAIL-M": "bigscience-openrail-m",  # listed there under the BLOOM RAIL short_id by mistake
    "OPT-175B": "opt-175b", "SEER": None, "Llama2": "llama2",
}


def _values(card: dict[str, object]) -> list[str]:
    lic = card.get("license")
    values = [v for v in (lic if isinstance(lic, list) else [lic]) if isinstance(v, str)]
    name = card.get("license_name")
    return values + ([name] if isinstance(name, str) else [])


def _recognised(value: str, rules: RuleSet) -> bool:
    """A value maps to a rule, read as a `license` value or as a `license_name`."""
    from auditor.model import DeclaredLicense
    from auditor.rules.normalize import normalise_declared

    for declared in (DeclaredLicense(license=[value]), DeclaredLicense(license=["other"], license_name=value)):
        norm = normalise_declared(declared, rules)
        if norm.rule_ids and not norm.unrecognised:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "hub-corpus" / "cards.jsonl")
    args = parser.parse_args()
    from auditor.model import DeclaredLicense
    from auditor.rules.loader import load_rules
    from auditor.rules.normalize import normalise_declared
    from tests.test_rule_coverage_oss import HUB_LICENSE_IDS

    rules = load_rules()
    hub = [i for i in HUB_LICENSE_IDS if normalise_declared(DeclaredLicense(license=[i]), rules).rule_ids
           and not normalise_declared(DeclaredLicense(license=[i]), rules).unrecognised]
    print(f"Hub official ids with a rule: {len(hub)} of {len(HUB_LICENSE_IDS)}; missing: "
          f"{sorted(set(HUB_LICENSE_IDS) - set(hub))}")
    cards: Counter[str] = Counter()
    values: dict[str, bool] = {}
    for line in args.corpus.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        card = entry.get("card") or {}
        link = card.get("license_link")
        declared = DeclaredLicense(license=[v for v in _values({"license": card.get("license")})],
                                   license_name=card.get("license_name") if isinstance(card.get("license_name"), str)
                                   else None, license_link=link if isinstance(link, str) else None)
        norm = normalise_declared(declared, rules, entry["id"])
        cards["missing" if norm.missing else "unrecognised" if norm.unrecognised else "recognised"] += 1
        for value in _values(card):
            values[value] = values.get(value, False) or _recognised(value, rules)
    declaring = cards["recognised"] + cards["unrecognised"]
    print(f"Corpus cards declaring a license that map to rules: {cards['recognised']} of {declaring} "
          f"({100 * cards['recognised'] / declaring:.1f}%); {cards['missing']} declare none")
    known = sorted(v for v, ok in values.items() if ok)
    print(f"Distinct corpus license/license_name values recognised: {len(known)} of {len(values)}; not: "
          f"{sorted(v for v, ok in values.items() if not ok)}")
    covered = [k for k, rid in MODELGO.items() if rid is not None and rid in rules.rules]
    print(f"ModelGo Analyzer licenses covered: {len(covered)} of {len(MODELGO)}; not: "
          f"{sorted(set(MODELGO) - set(covered))}")


if __name__ == "__main__":
    main()
