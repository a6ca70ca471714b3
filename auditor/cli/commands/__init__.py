"""The commands, one module per group. Each module defines its commands and a `register(app)` that
adds them to the `auditor` app; `GROUPS` lists the modules (adding a group is one line here)."""

from auditor.cli.commands import (
    audit,
    cache,
    diff,
    lineage,
    lock,
    matrix,
    rules,
    scan,
    schema,
    snapshot,
    survey,
    vocab,
)

# The order `auditor --help` lists them in (its commands first, then its groups, each in this order).
GROUPS = (lineage, snapshot, cache, rules, audit, lock, diff, matrix, schema, scan, survey, vocab)
