"""Mixtures: recipes, the one build sequence, sampling, the lock and `MixtureFolder`.

The Python API: `build_mixture("demo")` builds a recipe (a name, a YAML path or a `Recipe`)
and returns its `MixtureFolder`; `MixtureFolder.resolve("demo").to_dataset_dict()` reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mixtures.folder import DEFAULT_ROOT, MixtureFolder

if TYPE_CHECKING:
    from mixtures.build import CardWriter
    from mixtures.recipe import Recipe

__all__ = ["MixtureFolder", "build_mixture"]


def build_mixture(
    recipe: Recipe | str,
    output_dir: Path = DEFAULT_ROOT,
    *,
    mirror: Path | None = None,
    card: CardWriter | None = None,
    **context: Any,
) -> MixtureFolder:
    """Build `recipe` into `output_dir/<name>/` in this process (no Prefect) and return it.

    `mirror`: the local public-data mirror (None: the Hub). `card`: a card writer such as
    `data_cards.card.write_card` to render README.md and plots as well. Other keywords go to
    the `StageContext` (e.g. `show_progress=True`).
    """
    from instances.context import StageContext
    from mixtures.build import build, check_inputs
    from mixtures.recipe import load_recipe

    loaded = load_recipe(recipe) if isinstance(recipe, str) else recipe
    ctx = StageContext(mirror=mirror, seed=loaded.seed, **context)
    check_inputs(loaded, ctx)
    final_dir = Path(output_dir) / loaded.name
    build(loaded, ctx, final_dir, card=card)
    return MixtureFolder(final_dir)
