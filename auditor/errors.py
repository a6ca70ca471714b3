"""Errors the CLI reports as one line with exit code 2 (bad input), never a traceback."""

from __future__ import annotations


class AuditorError(Exception):
    """Bad input: the message names the file, the field and the fix."""


def known_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [AuditorError]
    try:
        from auditor.manifest import ManifestError

        errors.append(ManifestError)
    except ImportError:
        pass
    return tuple(errors)
