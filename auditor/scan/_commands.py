"""Model references in command lines: shell scripts, Dockerfiles, Makefiles, `.env` files, and the
command arrays and strings of compose, Kubernetes and Helm YAML.

- `--model X`, `--model-id X` (vLLM, TGI, SGLang…), `vllm serve X`
- llama.cpp: `-hf X`, `--hf-repo X`, `-m file.gguf` / `--model file.gguf`
- `huggingface-cli download X`, `hf download X`
- `ollama pull|run NAME[:TAG]`
- `MODEL_ID=X` (TGI) and the like, as an environment assignment, `ENV` line or `export`
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from auditor.scan._python import Found

_MODEL_FLAGS = frozenset({"--model", "--model-id", "--model_id", "--model-name-or-path", "--model-path",
                          "--served-model", "-hf", "--hf-repo", "-hfr", "--hf-model", "-m"})
_HF_REPO_FLAGS = frozenset({"-hf", "--hf-repo", "-hfr"})
_DOWNLOADERS = (("huggingface-cli", "download"), ("hf", "download"))
_OLLAMA_VERBS = frozenset({"pull", "run", "show", "push", "cp", "create"})
# Environment variables that name a model (TGI's MODEL_ID; common app settings).
MODEL_ENV_VARS = frozenset({"MODEL_ID", "MODEL", "MODEL_NAME", "HF_MODEL_ID", "HF_MODEL", "BASE_MODEL",
                            "EMBEDDING_MODEL", "LLM_MODEL", "OLLAMA_MODEL"})
_ASSIGNMENT = re.compile(r"^(?:export\s+|ENV\s+|ARG\s+)?(?P<name>[A-Z][A-Z0-9_]*)\s*[= ]\s*(?P<value>\S.*)$")


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def arg_refs(tokens: list[tuple[str, int]], prefix: str) -> Iterator[Found]:
    """References in one command line split into (token, line) pairs."""
    for index, (token, line) in enumerate(tokens):
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        flag, eq, inline = token.partition("=")
        if flag in _MODEL_FLAGS and (eq or nxt is not None):
            value, at = (inline, line) if eq else (nxt[0], nxt[1]) if nxt else ("", line)
            if value and not value.startswith("-"):
                if flag in _HF_REPO_FLAGS:
                    value = value.split(":", 1)[0]  # llama.cpp: <user>/<model>[:quant]
                yield Found(value, at, f"{prefix}:{flag}")
        elif nxt is not None and not nxt[0].startswith("-"):
            yield from _verb_ref(tokens, index, prefix)


def _verb_ref(tokens: list[tuple[str, int]], index: int, prefix: str) -> Iterator[Found]:
    """`vllm serve X`, `huggingface-cli download X`, `hf download X`, `ollama pull X`."""
    if index == 0:
        return
    program = tokens[index - 1][0].rsplit("/", 1)[-1]
    verb = tokens[index][0]
    value, line = tokens[index + 1]
    if program == "vllm" and verb == "serve":
        yield Found(value, line, f"{prefix}:vllm-serve")
    elif (program, verb) in _DOWNLOADERS:
        yield Found(value, line, f"{prefix}:{program}-download")
    elif program == "ollama" and verb in _OLLAMA_VERBS:
        yield Found(value, line, f"{prefix}:ollama-{verb}", target="ollama")


def _logical_lines(text: str) -> Iterator[tuple[str, int]]:
    """Lines with backslash continuations joined, each with the number of its first physical line."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1])
            continue
        buffer.append(stripped)
        yield " ".join(buffer), start
        buffer = []
    if buffer:
        yield " ".join(buffer), start


def env_assignment(line: str, number: int, prefix: str) -> Iterator[Found]:
    match = _ASSIGNMENT.match(line.strip())
    if match is None or match.group("name") not in MODEL_ENV_VARS:
        return
    values = _tokens(match.group("value"))
    if values:
        yield Found(values[0], number, f"{prefix}:{match.group('name')}")


def command_refs(text: str, prefix: str) -> Iterator[Found]:
    """A shell script, Dockerfile, Makefile or `.env` file."""
    for line, number in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield from env_assignment(stripped, number, prefix)
        # Dockerfile exec form: RUN ["vllm", "serve", "x"] / CMD [...]
        body = re.sub(r"^(RUN|CMD|ENTRYPOINT)\s+", "", stripped)
        if body.startswith("[") and body.endswith("]"):
            body = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
        for segment in re.split(r"&&|\|\||;|\|", body):
            yield from arg_refs([(token, number) for token in _tokens(segment)], prefix)
