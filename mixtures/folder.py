"""`MixtureFolder`: the one owner of a built mixture's on-disk layout.

    artifacts/mixtures/<name>/
        data/<split>-00000-of-0000N.parquet   the instances (Hub-style shard names)
        README.md                             the data card, plots/*.png beside it
        funnel.json                           per stage: rows in, rows out, drops, seconds
        rejected.parquet                      every dropped row with its stage and reason
        manifest.json                         the lock (see mixtures/manifest.py)

Every reader and writer of that layout goes through this class, so a change of layout is a
change of this file only.

>>> MixtureFolder(Path("artifacts/mixtures/demo")).shard_name("train", 0, 2)
'data/train-00000-of-00002.parquet'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from instances import InstructmixError, write_parquet_atomic
from instances.io import read_parquet_file, write_text_atomic

DEFAULT_ROOT = Path("artifacts/mixtures")
DATA_DIR = "data"
CARD = "README.md"
PLOTS_DIR = "plots"
FUNNEL = "funnel.json"
REJECTED = "rejected.parquet"
MANIFEST = "manifest.json"
SHARD_ROWS = 100_000


class MixtureNotBuilt(InstructmixError):
    """No built mixture where one was expected; the message says how to build it."""


@dataclass(frozen=True)
class MixtureFolder:
    """A built (or being written) mixture folder: paths, readers and writers of its files."""

    path: Path

    @classmethod
    def resolve(cls, name: str | Path, root: Path = DEFAULT_ROOT) -> MixtureFolder:
        """The mixture NAME under `root`, or NAME itself when it is a built folder."""
        candidate = Path(name)
        if (candidate / DATA_DIR).is_dir():
            return cls(candidate)
        return cls(Path(root) / str(name))

    @property
    def name(self) -> str:
        """The mixture's name (its folder's name)."""
        return self.path.name

    @property
    def data_dir(self) -> Path:
        """The folder of the Parquet shards."""
        return self.path / DATA_DIR

    @property
    def card_path(self) -> Path:
        """The data card, README.md."""
        return self.path / CARD

    @property
    def plots_dir(self) -> Path:
        """The folder of the card's plots."""
        return self.path / PLOTS_DIR

    @property
    def funnel_path(self) -> Path:
        """funnel.json."""
        return self.path / FUNNEL

    @property
    def rejected_path(self) -> Path:
        """rejected.parquet."""
        return self.path / REJECTED

    @property
    def manifest_path(self) -> Path:
        """manifest.json, the lock."""
        return self.path / MANIFEST

    def is_built(self) -> bool:
        """True when the folder has its data/ shards."""
        return any(self.data_dir.glob("*.parquet"))

    def require_built(self) -> MixtureFolder:
        """This folder, or `MixtureNotBuilt` naming it and the command that builds it."""
        if not self.is_built():
            raise MixtureNotBuilt(
                f"{self.path}: no built mixture here; run `instructmix build {self.name}` first"
            )
        return self

    # readers

    def shard_files(self, split: str | None = None) -> list[Path]:
        """The Parquet shards of `split` (all splits when None), sorted by name."""
        pattern = f"{split}-*.parquet" if split else "*.parquet"
        return sorted(self.data_dir.glob(pattern))

    def split_names(self) -> list[str]:
        """The splits present, in shard-name order (e.g. ['train', 'validation'])."""
        return sorted({split_of(path) for path in self.shard_files()})

    def read_split(self, split: str) -> pa.Table:
        """All rows of one split (its shards concatenated in order)."""
        files = self.shard_files(split)
        if not files:
            raise MixtureNotBuilt(f"{self.data_dir}: no {split}-*.parquet shards")
        return pa.concat_tables([read_parquet_file(path) for path in files])

    def read_splits(self) -> dict[str, pa.Table]:
        """Every split, by name."""
        return {split: self.read_split(split) for split in self.split_names()}

    def count_rows(self, split: str | None = None) -> int:
        """Rows in `split` (all splits when None), from the Parquet footers only."""
        return sum(pq.ParquetFile(path).metadata.num_rows for path in self.shard_files(split))

    def read_rejected(self) -> pa.Table | None:
        """The rejected rows, or None when the folder has no rejected.parquet."""
        return read_parquet_file(self.rejected_path) if self.rejected_path.is_file() else None

    def read_json(self, path: Path) -> Any:
        """A JSON file of this folder (None when absent); bad JSON names the file."""
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            detail = getattr(error, "msg", None) or type(error).__name__
            raise InstructmixError(
                f"{path}: corrupt JSON ({detail}); rebuild the mixture"
            ) from None

    def funnel(self) -> list[dict[str, Any]]:
        """funnel.json's stages ([] when absent)."""
        return self.read_json(self.funnel_path) or []

    def manifest(self) -> dict[str, Any]:
        """manifest.json ({} when absent)."""
        return self.read_json(self.manifest_path) or {}

    def plot_files(self) -> list[Path]:
        """The card's plots, sorted."""
        return sorted(self.plots_dir.glob("*.png"))

    def to_dataset_dict(self) -> Any:
        """The splits as a `datasets.DatasetDict` (read from the Parquet shards)."""
        import datasets

        self.require_built()
        files = {split: [str(p) for p in self.shard_files(split)] for split in self.split_names()}
        return datasets.load_dataset("parquet", data_files=files)

    # writers

    @staticmethod
    def shard_name(split: str, index: int, count: int) -> str:
        """A shard's path in the folder, Hub style."""
        return f"{DATA_DIR}/{split}-{index:05d}-of-{count:05d}.parquet"

    def write_split(self, split: str, table: pa.Table, shard_rows: int = SHARD_ROWS) -> list[str]:
        """Write `table` as the shards of `split`; return their paths relative to the folder."""
        count = max(1, -(-table.num_rows // shard_rows))
        names = [self.shard_name(split, i, count) for i in range(count)]
        for i, name in enumerate(names):
            write_parquet_atomic(table.slice(i * shard_rows, shard_rows), self.path / name)
        return names

    def write_split_stream(
        self,
        split: str,
        tables: Iterable[pa.Table],
        rows: int,
        schema: pa.Schema,
        shard_rows: int = SHARD_ROWS,
    ) -> list[str]:
        """`write_split` of the `rows` rows that `tables` (in `schema`) yield in order, one
        shard's rows in memory at a time: the same files, byte for byte. Returns the shards'
        paths relative to the folder."""
        from instances.shards import rebatch

        count = max(1, -(-rows // shard_rows))
        names = [self.shard_name(split, i, count) for i in range(count)]
        if rows == 0:
            write_parquet_atomic(schema.empty_table(), self.path / names[0])
        written = 0
        for i, table in enumerate(rebatch(tables, shard_rows)):
            if i >= count:
                raise ValueError(f"split {split}: more than the {rows:,} rows announced")
            write_parquet_atomic(table, self.path / names[i])
            written += table.num_rows
        if written != rows:
            raise ValueError(f"split {split}: {written:,} rows written, {rows:,} announced")
        return names

    def write_rejected(self, table: pa.Table) -> str:
        """Write the rejected rows; return the file's relative path."""
        write_parquet_atomic(table, self.rejected_path)
        return REJECTED

    def write_funnel(self, stages: list[dict[str, Any]]) -> None:
        """Write funnel.json (one object per stage)."""
        text = json.dumps(stages, indent=2, ensure_ascii=False) + "\n"
        write_text_atomic(text, self.funnel_path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write manifest.json (keys sorted: the same lock gives the same bytes)."""
        write_text_atomic(json.dumps(manifest, indent=2, sort_keys=True) + "\n", self.manifest_path)


def split_of(path: Path) -> str:
    """The split a shard file belongs to.

    >>> split_of(Path("data/validation-00000-of-00001.parquet"))
    'validation'
    """
    return path.name.split("-")[0]
