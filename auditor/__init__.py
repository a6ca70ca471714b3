"""Model license auditor: license compliance and provenance for open-weight AI models."""

__version__ = "0.1.0"
