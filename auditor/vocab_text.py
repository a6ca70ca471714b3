"""The vocabulary as text, for `auditor vocab LIST` and the README tables."""

from __future__ import annotations

from collections.abc import Callable

from auditor import vocab


def _codes() -> list[str]:
    return [f"{c.code:<22} {c.severity:<8} {c.meaning}" for c in vocab.CODES.values()]


def _purposes() -> list[str]:
    lines = []
    for p in vocab.PURPOSES.values():
        flag = "prohibited by some license" if p.prohibited_somewhere else "no license prohibits it"
        aliases = f" (also: {', '.join(p.aliases)})" if p.aliases else ""
        lines.append(f"{p.key:<30} {p.meaning} [{flag}]{aliases}")
    return lines


def _regions() -> list[str]:
    lines = [f"{code:<6} {vocab.GROUP_NAMES[code]}: {', '.join(sorted(members))}"
             for code, members in vocab.REGION_GROUPS.items()]
    lines.append("and every ISO 3166-1 country: its alpha-2 or alpha-3 code or its name, in any case "
                 "(Germany, de, DEU -> DE); comma lists are split")
    lines.append("domicile: where your organisation is domiciled; markets: where the product is offered or used")
    return lines


def _simple(values: tuple[str, ...], meanings: dict[str, str] | None = None) -> Callable[[], list[str]]:
    return lambda: [f"{v:<16} {(meanings or {}).get(v, '')}".rstrip() for v in values]


_LISTS: dict[str, Callable[[], list[str]]] = {
    "codes": _codes,
    "purposes": _purposes,
    "regions": _regions,
    "severities": _simple(vocab.SEVERITIES, {"error": "fails the audit", "warning": "needs review",
                                              "info": "for the record"}),
    "distributions": _simple(vocab.DISTRIBUTIONS, dict(vocab.DISTRIBUTION_MEANINGS)),
    "relations": _simple(vocab.RELATIONS, dict(vocab.RELATION_MEANINGS)),
    "kinds": _simple(vocab.LICENSE_KINDS),
    "exit-codes": lambda: [f"{e.value:<4} {e.name.lower()}" for e in vocab.ExitCode],
}


VOCAB_LISTS: tuple[str, ...] = tuple(_LISTS)


def render_vocab(which: str) -> str:
    return "\n".join(_LISTS[which]()) + "\n"


def codes_markdown() -> str:
    """README's table of finding codes, generated from the vocabulary (a test keeps README in step)."""
    rows = ["| code | default severity | when |", "|---|---|---|"]
    rows += [f"| `{c.code}` | {c.severity} | {c.meaning} |" for c in vocab.CODES.values()]
    return "\n".join(rows) + "\n"


def exit_codes_markdown() -> str:
    meanings = {
        "OK": "pass (always, with `--fail-on never`)",
        "FINDINGS": "findings at or above `--fail-on` (default `error`)",
        "USAGE": "bad input or usage: one line on stderr naming the file, line and field (or the option) and the fix",
        "INCOMPLETE": "the audit could not decide, and nothing worse was found: a model or a file naming a parent "
                      "could not be read, or a license term depends on a use field you did not declare "
                      "(`needs-input`)",
        "INTERNAL": "a bug in the auditor (never caused by input; set AUDITOR_DEBUG=1 for a traceback)",
        "INTERRUPTED": "interrupted (Ctrl-C)",
        "BROKEN_PIPE": "the reader of stdout went away (`auditor … | head`)",
    }
    rows = ["| exit code | meaning |", "|---|---|"]
    rows += [f"| `{e.value}` | {meanings[e.name]} |" for e in vocab.ExitCode]
    return "\n".join(rows) + "\n"
