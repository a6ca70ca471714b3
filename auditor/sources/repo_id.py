"""Hub repo ids: the one predicate the CLI, the manifest, the card parser, the scanner and the
reports share, with the Hub's own rules.

`owner/name`, each part of ASCII letters, digits, `-`, `_` and `.`, not starting or ending with `-` or
`.`, with no `--` or `..`; each part at most 96 characters; the name not ending in `.git`.
Pure: the standard library only.
"""

from __future__ import annotations

import re

MAX_PART = 96
_PART = rf"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{{0,{MAX_PART - 2}}}[A-Za-z0-9_])?"
REPO_ID_RE = re.compile(rf"^{_PART}/{_PART}$")
_HUB_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?P<id>[\w.-]+/[\w.-]+)"
    r"(?:/(?:tree|blob|resolve)/[^/]+.*)?/?$"
)
RULES = "letters, digits, '-', '_', '.'; not starting or ending with '-' or '.'; no '..' or '--'"


def is_repo_id(value: str) -> bool:
    """True for a well-formed Hub repo id `owner/name` (the Hub's rules, see the module docstring)."""
    if not REPO_ID_RE.match(value):
        return False
    if ".." in value or "--" in value:
        return False
    return not value.lower().endswith(".git")


def repo_id_problem(value: str) -> str | None:
    """Why `value` is no Hub repo id, with the fix (one sentence), or None when it is one."""
    if is_repo_id(value):
        return None
    return (f"'{value}' is not a Hub repo id. Write it as owner/name, e.g. example-org/example-model "
            f"({RULES})")


def normalise_repo_ref(raw: str) -> tuple[str | None, str]:
    """A Hub repo id or Hub URL (`https://huggingface.co/owner/name/tree/main`) to the repo id, or None
    with a note saying why it names none. The note says when a URL was normalised."""
    value = raw.strip()
    if is_repo_id(value):
        return value, ""
    match = _HUB_URL_RE.match(value)
    if match and is_repo_id(match.group("id")):
        return match.group("id"), f"normalised from URL {value!r}"
    return None, f"not a Hub repo id: {value!r}"
