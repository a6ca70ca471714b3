"""The one YAML loader for every file a user or a repository hands us: manifests, policies, rule files
and card front matter.

Untrusted input is refused before it can hurt: a size cap checked before parsing, an alias cap
counted on the event stream (aliases are how "billion laughs" documents grow), a nesting cap, and
no YAML timestamps (dates stay strings, so `2027-02-30` is a located validation error, not a crash).
Every problem is an `AuditorError` whose message is one line `<file>:<line>: <what>: <problem>. <fix>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from auditor.errors import AuditorError

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BASE_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(_BASE_LOADER):
    """The safe loader (libyaml's when present) without the implicit timestamp resolver."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True)
class Limits:
    """What one kind of file may hold."""

    what: str  # "manifest", "policy", "rule file", "card front matter"
    max_bytes: int
    max_aliases: int = 0
    max_depth: int = 64


MANIFEST_LIMITS = Limits("manifest", 5 * 1024 * 1024)
POLICY_LIMITS = Limits("policy", 5 * 1024 * 1024)
RULE_LIMITS = Limits("rule file", 1024 * 1024, max_aliases=200)
CARD_LIMITS = Limits("card front matter", 1024 * 1024, max_aliases=50)


class YamlError(AuditorError):
    """A YAML file that cannot be read within its limits. `line` is 1-based."""

    def __init__(self, message: str, *, file: str, line: int) -> None:
        super().__init__(message)
        self.file = file
        self.line = line


def _fail(file: str, line: int, limits: Limits, problem: str) -> YamlError:
    return YamlError(f"{file}:{line}: {limits.what}: {problem}", file=file, line=line)


def decode(data: bytes, file: str, limits: Limits) -> str:
    """Bytes -> text, refusing oversized and non-UTF-8 input with a located message."""
    if len(data) > limits.max_bytes:
        raise _fail(file, 1, limits, f"the file is {len(data):,} bytes, over the {limits.max_bytes:,}-byte limit. "
                                     "Split it or remove what it does not need")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise _fail(file, line, limits, "not UTF-8 text (is it a binary file?). Save it as UTF-8 YAML") from None


def _check_events(text: str, file: str, limits: Limits) -> None:
    """Count aliases and nesting on the event stream, before anything is built."""
    aliases = depth = 0
    events: Iterable[Any] = yaml.parse(text, Loader=_BASE_PARSER)
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                line = event.start_mark.line + 1 if event.start_mark else 1
                allowed = "no aliases" if limits.max_aliases == 0 else f"at most {limits.max_aliases} aliases"
                raise _fail(file, line, limits, f"YAML alias (*name) refused: a {limits.what} may hold {allowed}. "
                                                "Write the value out in full")
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise _fail(file, event.start_mark.line + 1 if event.start_mark else 1, limits,
                            f"nested more than {limits.max_depth} levels deep. Flatten the structure")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _syntax_error(err: yaml.YAMLError, file: str, limits: Limits) -> YamlError:
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(" ".join(str(p) for p in (err.context, err.problem) if p).split())
        if mark is not None:
            problem += f" at column {mark.column + 1}"
        if err.context_mark and mark and err.context_mark.line != mark.line:
            problem += f" (it starts at line {err.context_mark.line + 1})"
        return _fail(file, line, limits, f"invalid YAML: {problem}. Check the indentation, quotes and colons "
                                         "on that line")
    return _fail(file, 1, limits, f"invalid YAML: {' '.join(str(err).split())}. Fix the YAML syntax")


def load(text: str, file: str, limits: Limits) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document within `limits`: (data, node tree for line numbers)."""
    if len(text) > limits.max_bytes:
        raise _fail(file, 1, limits, f"the file is over the {limits.max_bytes:,}-byte limit. "
                                     "Split it or remove what it does not need")
    try:
        _check_events(text, file, limits)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise _syntax_error(err, file, limits) from None
    except RecursionError:
        raise _fail(file, 1, limits, "nested too deeply to read. Flatten the structure") from None
    except (ValueError, TypeError, OverflowError) as err:  # a scalar no constructor accepts
        raise _fail(file, 1, limits, f"a value cannot be read ({' '.join(str(err).split())}). Fix the value") \
            from None
    return data, node



def line_of(root: yaml.Node | None, loc: Iterable[Any]) -> int:
    """1-based line of the node at a pydantic error location: the line of the last key named in it."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if pair is None:
                return line
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_text(path: Any, limits: Limits, *, hint: str = "Check the path") -> str:
    """A file's text, read no further than the size cap, with located one-line errors."""
    file = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as err:
        raise _fail(file, 1, limits, f"cannot read the file ({err.strerror or type(err).__name__}). {hint}") \
            from None
    return decode(data, file, limits)
