"""Where training on a named recipe reads its mixture and writes its model, and how."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from instances import InstructmixError
from mixtures.folder import DEFAULT_ROOT, MixtureFolder
from mixtures.recipe import load_recipe
from train.spec import TrainSpec

if TYPE_CHECKING:
    from train.run import Prepared, TrainResult


@dataclass(frozen=True)
class TrainPlan:
    """Where a named recipe's mixture is read from and its model written to, and how."""

    name: str
    spec: TrainSpec
    seed: int
    mixture_dir: Path
    output_dir: Path

    def prepare(self, model_cache: Path) -> Prepared:
        """Load the mixture and the tokenizer and run the pre-flight check (`train.run.prepare`,
        with progress shown; `model_cache`: converted base models)."""
        from train.run import prepare

        return prepare(self.mixture_dir, self.spec, model_cache, show_progress=True)

    def train(self, model_cache: Path, prepared: Prepared | None = None) -> TrainResult:
        """Pre-flight (unless `prepared` already did) and SFT on the mixture, the model saved to
        `output_dir` (`train.run.train_mixture`)."""
        from train.run import train_mixture

        return train_mixture(
            self.mixture_dir,
            self.spec,
            name=self.name,
            output_dir=self.output_dir,
            cache_dir=model_cache,
            seed=self.seed,
            prepared=prepared,
        )


def train_plan(
    name: str, output_dir: Path = DEFAULT_ROOT, model_dir: Path | None = None
) -> TrainPlan:
    """Resolve recipe NAME (a name or a YAML path) into a `TrainPlan`: its mixture under
    `output_dir` (the folder of built mixtures), its model to `model_dir` (default: the
    recipe's train.output_dir, else `models/NAME` beside `output_dir`: artifacts/models/NAME).
    Errors say how to fix."""
    recipe = load_recipe(name)
    spec = recipe.require_train()
    folder = MixtureFolder(Path(output_dir) / recipe.name)
    if not folder.is_built():
        raise InstructmixError(
            f"{folder.path}: mixture {recipe.name!r} is not built; run `instructmix build {name}`"
        )
    if model_dir is None:
        configured = spec.output_dir
        model_dir = (
            Path(configured) if configured else Path(output_dir).parent / "models" / recipe.name
        )
    return TrainPlan(recipe.name, spec, recipe.seed, folder.path, Path(model_dir))
