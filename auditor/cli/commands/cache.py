"""`auditor cache info|clear`: the on-disk metadata cache."""

from __future__ import annotations

import typer

from auditor.cli._common import guarded, sub_app

cache_app = sub_app("The on-disk metadata cache ($AUDITOR_CACHE_DIR moves it).\n\nExample: auditor cache info")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


@cache_app.command("info")
@guarded
def cache_info() -> None:
    """Where the metadata cache is and what it holds. Example: auditor cache info"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    stats = MetadataCache(default_cache_dir()).stats()
    typer.echo(f"path: {stats.path}\nentries: {stats.entries} ({stats.pinned} pinned to a commit)")
    typer.echo(f"size: {stats.size_bytes} bytes")


@cache_app.command("clear")
@guarded
def cache_clear() -> None:
    """Delete every cached entry. Example: auditor cache clear"""
    from auditor.sources.cache import MetadataCache, default_cache_dir

    removed = MetadataCache(default_cache_dir()).clear()
    typer.echo(f"removed {removed} entries")
