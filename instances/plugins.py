"""Kinds that other installed packages add, through entry points.

A package declares, in its metadata, an entry point in the group `instructmix.generators` or
`instructmix.filters`:

    [project.entry-points."instructmix.generators"]
    my_source = "my_package.my_source"      # a module (or object) with Config and generate

The object it names has `Config` (a pydantic model with `kind: Literal["my_source"]` and
extra="forbid") and `generate(config, ctx) -> StageResult` for a generator, or
`verdicts(table, config, ctx) -> filters.dispatch.Verdicts` for a filter (a reason or None
per row; the dispatcher splits, times and counts); `inputs(config, ctx)` (local files read,
for the lock) and, for generators, `licenses(config)` are optional. Plugins are found once, when
the registries are imported; a plugin that fails to load is reported as a warning naming it,
and recipes that use its kind then fail validation listing the kinds that are installed.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

GENERATOR_GROUP = "instructmix.generators"
FILTER_GROUP = "instructmix.filters"


class PluginWarning(UserWarning):
    """An installed plugin could not be loaded or clashes with a kind already known."""


def plugin_kind(plugin: Any, needs: str) -> str:
    """The `kind` a plugin's Config declares (ValueError when the plugin lacks the contract)."""
    config = getattr(plugin, "Config", None)
    if config is None or not hasattr(plugin, needs):
        raise ValueError(f"needs a Config model and a {needs}() function")
    field = getattr(config, "model_fields", {}).get("kind")
    kind = getattr(field, "default", None)
    if not isinstance(kind, str):
        raise ValueError("its Config needs kind: Literal['...'] = '...'")
    return kind


def discover(group: str, needs: str, known: set[str]) -> dict[str, Any]:
    """kind -> plugin object for every loadable entry point of `group` (builtins win clashes)."""
    found: dict[str, Any] = {}
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            plugin = point.load()
            kind = plugin_kind(plugin, needs)
        except Exception as error:  # a broken plugin must not break every other command
            warnings.warn(
                f"plugin {point.name!r} ({point.value}) in {group} not loaded: {error}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        if kind in known or kind in found:
            warnings.warn(
                f"plugin {point.name!r} ({point.value}) in {group}: kind {kind!r} is taken",
                PluginWarning,
                stacklevel=2,
            )
            continue
        found[kind] = plugin
    return found
