"""What re-rendering the card of a built folder needs, read from its lock (manifest.json)."""

from __future__ import annotations

from pathlib import Path

import yaml

from data_cards.card import CardError
from generators.registry import generator_licenses
from instances import InstructmixError
from mixtures.folder import MixtureFolder
from mixtures.manifest import recipe_hash
from mixtures.recipe import RECIPES_DIR, load_recipe, parse_recipe


def card_inputs(folder: Path) -> tuple[str, list[str]]:
    """The recipe text and declared licenses to re-render the card of a built `folder`.

    The named recipe file when its hash matches the build's lock, else the locked recipe as YAML.
    """
    mixture = MixtureFolder(folder)
    if not mixture.manifest_path.is_file():
        raise CardError(
            f"{mixture.manifest_path}: missing; rebuild the mixture (instructmix build)"
        )
    manifest = mixture.manifest()
    locked = manifest.get("recipe") or {}
    text = yaml.safe_dump(locked, sort_keys=False, allow_unicode=True)
    path = RECIPES_DIR / f"{manifest.get('name', '')}.yaml"
    try:
        if path.is_file() and recipe_hash(load_recipe(str(path))) == manifest.get("recipe_hash"):
            text = path.read_text(encoding="utf-8")
        sources = parse_recipe(locked, f"{folder}/manifest.json").sources
        licenses = sorted({lic for s in sources for lic in generator_licenses(s.generator)})
    except InstructmixError:  # a generator this checkout lacks: rows' meta still has licenses
        licenses = []
    return text, licenses
