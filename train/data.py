"""Load a built mixture (artifacts/mixtures/NAME/data/*.parquet) as `datasets` for TRL.

The format is read from the columns, never guessed from a first row: a `messages` column is a
conversational language-modeling dataset; `prompt` + `completion` columns are a prompt-completion
dataset (strings, or lists of messages). Every row is checked, and a bad one is named by file,
row and field. With `loss: completion_only` a messages mixture becomes conversational
prompt-completion (all turns before the last assistant turn are the prompt), so the loss falls on
the final answer only.

    >>> data = load_mixture(Path("artifacts/mixtures/demo"), "assistant_only")  # doctest: +SKIP
    >>> data.format, data.train.column_names  # doctest: +SKIP
    ('messages', ['messages'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from instances import InstructmixError
from mixtures.folder import MixtureFolder

Format = Literal["messages", "prompt_completion"]
SPLITS = ("train", "validation")
ROLES = frozenset({"system", "user", "assistant"})


class TrainDataError(InstructmixError):
    """The mixture folder is missing, empty or holds rows TRL cannot take."""


@dataclass(frozen=True)
class TrainData:
    """The splits of a mixture in the format TRL takes, plus where they came from."""

    train: Any  # datasets.Dataset
    validation: Any | None
    format: Format
    source_format: Format
    files: list[Path] = field(default_factory=list)

    @property
    def conversational(self) -> bool:
        """True when rows are lists of chat messages (TRL applies the chat template)."""
        if self.format == "messages":
            return True
        return isinstance(self.train[0]["prompt"], list) if len(self.train) else False


def split_files(mixture_dir: Path, split: str) -> list[Path]:
    """The Parquet files of `split` in a mixture folder (data/<split>-*.parquet), sorted."""
    return MixtureFolder(Path(mixture_dir)).shard_files(split)


def _check_turns(turns: Any, where: str) -> None:
    if not isinstance(turns, list) or not turns:
        raise TrainDataError(f"{where}: expected a non-empty list of messages")
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES:
            raise TrainDataError(
                f"{where}[{index}].role: expected one of {sorted(ROLES)}, "
                f"got {turn.get('role') if isinstance(turn, dict) else turn!r}"
            )
        if not isinstance(turn.get("content"), str):
            raise TrainDataError(f"{where}[{index}].content: expected a string")


def _check_rows(rows: list[dict[str, Any]], fmt: Format, file: Path, offset: int) -> None:
    for number, row in enumerate(rows):
        where = f"{file}: row {offset + number}"
        if fmt == "messages":
            _check_turns(row["messages"], f"{where}: field messages")
            if not any(turn["role"] == "assistant" for turn in row["messages"]):
                raise TrainDataError(
                    f"{where}: field messages: no assistant turn, so nothing to learn"
                )
            continue
        for key in ("prompt", "completion"):
            value = row[key]
            if isinstance(value, list):
                _check_turns(value, f"{where}: field {key}")
            elif not isinstance(value, str) or (key == "completion" and not value):
                raise TrainDataError(
                    f"{where}: field {key}: expected a string or a list of messages"
                )


def _format_of(table: pa.Table, file: Path) -> Format:
    names = set(table.column_names)
    if "messages" in names:
        return "messages"
    if {"prompt", "completion"} <= names:
        return "prompt_completion"
    raise TrainDataError(
        f"{file}: expected a 'messages' column or 'prompt' and 'completion' columns, "
        f"got {sorted(names)}"
    )


def _as_completion(row: dict[str, Any], where: str) -> dict[str, Any]:
    turns = row["messages"]
    if turns[-1]["role"] != "assistant":
        raise TrainDataError(
            f"{where}: field messages: the last turn is {turns[-1]['role']!r}; "
            "loss completion_only needs an assistant turn last"
        )
    return {"prompt": turns[:-1], "completion": turns[-1:]}


def _read_split(files: list[Path], loss: str) -> tuple[list[dict[str, Any]], Format, Format]:
    rows: list[dict[str, Any]] = []
    source_format: Format | None = None
    for file in files:
        try:
            table = pq.read_table(file)
        except (OSError, pa.ArrowInvalid) as error:
            raise TrainDataError(f"{file}: not a readable Parquet file: {error}") from error
        fmt = _format_of(table, file)
        if source_format is not None and fmt != source_format:
            raise TrainDataError(
                f"{file}: format {fmt} differs from the other files' {source_format}"
            )
        source_format = fmt
        columns = ["messages"] if fmt == "messages" else ["prompt", "completion"]
        part = table.select(columns).to_pylist()
        _check_rows(part, fmt, file, 0)
        if fmt == "messages" and loss == "completion_only":
            part = [_as_completion(row, f"{file}: row {i}") for i, row in enumerate(part)]
        rows.extend(part)
    assert source_format is not None
    target: Format = "prompt_completion" if loss == "completion_only" else source_format
    return rows, source_format, target


def load_mixture(mixture_dir: Path, loss: str = "assistant_only") -> TrainData:
    """Read the train (and, if present, validation) split of a built mixture for TRL.

    Reads: data/train-*.parquet, data/validation-*.parquet (columns `messages`, or `prompt` and
    `completion`; other columns are ignored). Returns `TrainData` with only the columns TRL uses.
    """
    from datasets import Dataset

    mixture_dir = Path(mixture_dir)
    if not mixture_dir.is_dir():
        raise TrainDataError(
            f"{mixture_dir}: no built mixture here; "
            f"run `instructmix build {mixture_dir.name}` first"
        )
    train_files = split_files(mixture_dir, "train")
    if not train_files:
        raise TrainDataError(f"{mixture_dir / 'data'}: no train-*.parquet files")
    rows, source_format, fmt = _read_split(train_files, loss)
    if not rows:
        raise TrainDataError(f"{mixture_dir / 'data'}: the train split has no rows")
    validation = None
    validation_files = split_files(mixture_dir, "validation")
    if validation_files:
        valid_rows, valid_format, _ = _read_split(validation_files, loss)
        if valid_format != source_format:
            raise TrainDataError(
                f"{validation_files[0]}: validation format {valid_format} differs from "
                f"train format {source_format}"
            )
        validation = Dataset.from_list(valid_rows) if valid_rows else None
    return TrainData(
        train=Dataset.from_list(rows),
        validation=validation,
        format=fmt,
        source_format=source_format,
        files=train_files + validation_files,
    )
