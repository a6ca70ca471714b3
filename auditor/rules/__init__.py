"""License rules: schema, loading, normalisation."""
