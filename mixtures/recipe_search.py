"""Where a recipe name resolves, in order: a path to a YAML file; the folders of
`INSTRUCTMIX_RECIPES` (colon-separated; read at the CLI edge and set here with
`set_recipe_folders`); `./mixtures/recipes/` and `./recipes/` under the current directory; the
packaged recipes. A name found in an earlier folder shadows the same name in later ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from instances import InstructmixError

if TYPE_CHECKING:
    from rich.console import Console

PACKAGED_DIR = Path(__file__).parent / "recipes"
SUFFIXES = (".yaml", ".yml")
_FOLDERS: list[Path] = []  # INSTRUCTMIX_RECIPES, as the CLI found it


class RecipeNotFound(InstructmixError):
    """No recipe of that name in any folder searched; the message lists names and folders."""


@dataclass(frozen=True)
class RecipeEntry:
    """A recipe found by the search: its name, its file and where it was found."""

    name: str
    path: Path
    where: str
    shadowed: bool = False


def set_recipe_folders(folders: Sequence[str | Path]) -> None:
    """Set the folders named by INSTRUCTMIX_RECIPES (searched before the current directory)."""
    _FOLDERS[:] = [Path(folder).expanduser() for folder in folders if str(folder)]


def parse_recipe_folders(value: str | None) -> list[Path]:
    """The folders of an INSTRUCTMIX_RECIPES value (colon-separated, blanks skipped).

    >>> [str(p) for p in parse_recipe_folders("a:b::c")]
    ['a', 'b', 'c']
    """
    return [Path(part) for part in (value or "").split(":") if part.strip()]


def search_folders(cwd: Path | None = None) -> list[tuple[Path, str]]:
    """(folder, label) in search order, each folder once (by resolved path)."""
    cwd = Path.cwd() if cwd is None else cwd
    ordered = [(folder, "INSTRUCTMIX_RECIPES") for folder in _FOLDERS]
    ordered += [
        (cwd / "mixtures" / "recipes", "./mixtures/recipes"),
        (cwd / "recipes", "./recipes"),
    ]
    ordered.append((PACKAGED_DIR, "packaged"))
    seen: set[Path] = set()
    out = []
    for folder, label in ordered:
        key = folder.resolve()
        if key in seen:
            continue
        seen.add(key)
        if key == PACKAGED_DIR.resolve():
            label = "packaged"
        out.append((folder, label))
    return out


def list_recipes(cwd: Path | None = None) -> list[RecipeEntry]:
    """Every recipe of every searched folder, in search order (later same names: shadowed)."""
    found: list[RecipeEntry] = []
    names: set[str] = set()
    for folder, label in search_folders(cwd):
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
        for path in files:
            found.append(RecipeEntry(path.stem, path, label, shadowed=path.stem in names))
            names.add(path.stem)
    return found


def find_recipe(name: str, cwd: Path | None = None) -> Path:
    """The YAML file recipe `name` resolves to (see the module docstring)."""
    given = Path(name)
    if given.suffix in SUFFIXES:
        if given.is_file():
            return given
        raise RecipeNotFound(f"recipe file {name} not found")
    for folder, _ in search_folders(cwd):
        for suffix in SUFFIXES:
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    known = sorted({entry.name for entry in list_recipes(cwd)})
    searched = ", ".join(str(folder) for folder, _ in search_folders(cwd))
    raise RecipeNotFound(
        f"unknown recipe {name!r}: searched {searched}; known recipes: {', '.join(known) or 'none'}"
        " (see `instructmix recipes`)"
    )


def print_recipes(console: Console) -> None:
    """Print every recipe in search order (name, where it was found, its file), then the
    folders searched."""
    from rich.table import Table

    table = Table(title="instructmix recipes (first found wins)")
    for column in ("recipe", "found in", "file"):
        table.add_column(column, overflow="fold")
    for entry in list_recipes():
        table.add_row(
            f"{entry.name} (shadowed)" if entry.shadowed else entry.name,
            entry.where,
            str(entry.path),
        )
    console.print(table)
    searched = ", ".join(f"{label}: {folder}" for folder, label in search_folders())
    console.print(f"searched, in order: {searched}")
