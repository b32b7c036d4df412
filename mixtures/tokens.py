"""Token counts per row after a tokenizer's chat template: what SFT will actually see.

Per row (a conversation ending in an assistant turn):

- `prompt_tokens`: the template applied to every turn but the last, with the generation
  prompt (`<|im_start|>assistant\\n`): TRL's prompt in the prompt-completion form;
- `response_tokens`: the rest of the conversation (`total - prompt`): the last assistant turn
  with the template's end-of-turn tokens;
- `total_tokens`: the whole conversation through the template;
- `trainable_tokens`: tokens inside the assistant mask, the ones SFT's loss sees with
  assistant-only loss; every assistant turn of a multi-turn row counts.

With `{% generation %}` markers in the template, the mask is the one transformers returns
(`return_assistant_tokens_mask`, what TRL uses). Without markers, an assistant turn is the
text the template adds after the generation prompt up to and including the turn's end:
render(turns[:i+1]) minus render(turns[:i], add_generation_prompt=True).

Counting is batched on the fast tokenizer and cached on disk per (tokenizer + template
fingerprint, row id) in `<cache>/tokens/<fingerprint>.parquet`, so a rebuild counts only rows
it has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instances import write_parquet_atomic
from mixtures.recipe import Recipe
from mixtures.tokenizer import (
    TokenizerError,
    fingerprint,
    known_fingerprint,
    load_tokenizer,
    record_fingerprint,
    tokenizer_name,
)

COUNT_COLUMNS = ("prompt_tokens", "response_tokens", "total_tokens", "trainable_tokens")
TOKENS_SCHEMA = pa.schema(
    [pa.field("id", pa.string(), nullable=False)]
    + [pa.field(name, pa.int64(), nullable=False) for name in COUNT_COLUMNS]
)
GENERATION_MARKER = re.compile(r"\{%-?\s*generation\s*-?%\}")
BATCH = 512
DEFAULT_CACHE = Path(".cache")  # the flows' default cache folder, relative to the run
Conversation = Sequence[dict[str, str]]


def has_generation_markers(template: str | None) -> bool:
    """True when a chat template marks assistant output with `{% generation %}`.

    >>> has_generation_markers("{% generation %}{{ m }}{% endgeneration %}")
    True
    """
    return bool(template) and bool(GENERATION_MARKER.search(template))


def _render(tokenizer: Any, turns: Conversation, generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        list(turns), tokenize=False, add_generation_prompt=generation_prompt
    )


def assistant_spans(tokenizer: Any, turns: Conversation, text: str) -> list[tuple[int, int]]:
    """Character spans of `text` (the rendered conversation) the assistant turns produce.

    Each span runs from the end of the generation prompt before an assistant turn to the end
    of that turn as the template renders it. A template that rewrites earlier turns (so a
    prefix render is not a prefix of `text`) falls back to the turn's content itself.
    """
    spans, cursor = [], 0
    for index, turn in enumerate(turns):
        if turn["role"] != "assistant":
            continue
        before = _render(tokenizer, turns[:index], True) if index else ""
        after = _render(tokenizer, turns[: index + 1])
        if text.startswith(after) and after.startswith(before):
            spans.append((len(before), len(after)))
            cursor = len(after)
            continue
        start = text.find(turn["content"], cursor)
        if start >= 0:
            spans.append((start, start + len(turn["content"])))
            cursor = start + len(turn["content"])
    return spans


def _masked_counts(tokenizer: Any, batch: list[Conversation]) -> tuple[list[int], list[int]]:
    out = tokenizer.apply_chat_template(
        [list(c) for c in batch],
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    totals = [len(ids) for ids in out["input_ids"]]
    return totals, [int(sum(mask)) for mask in out["assistant_masks"]]


def _span_counts(tokenizer: Any, batch: list[Conversation]) -> tuple[list[int], list[int]]:
    texts = [_render(tokenizer, c) for c in batch]
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    totals, trainable = [], []
    for turns, text, offsets in zip(batch, texts, encoded["offset_mapping"], strict=True):
        spans = assistant_spans(tokenizer, turns, text)
        starts = np.array([start for start, end in offsets if end > start] or [], dtype=np.int64)
        inside = np.zeros(len(starts), dtype=bool)
        for low, high in spans:
            inside |= (starts >= low) & (starts < high)
        totals.append(len(offsets))
        trainable.append(int(inside.sum()))
    return totals, trainable


def count_conversations(tokenizer: Any, conversations: Sequence[Conversation]) -> pa.Table:
    """Counts for each conversation (columns `COUNT_COLUMNS`, in input order), in batches."""
    columns: dict[str, list[int]] = {name: [] for name in COUNT_COLUMNS}
    masked = has_generation_markers(tokenizer.chat_template)
    for start in range(0, len(conversations), BATCH):
        batch = list(conversations[start : start + BATCH])
        prompts = [_render(tokenizer, turns[:-1], True) for turns in batch]
        prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
        totals, trainable = (_masked_counts if masked else _span_counts)(tokenizer, batch)
        prompt_lengths = [
            min(len(ids), total) for ids, total in zip(prompt_ids, totals, strict=True)
        ]
        columns["prompt_tokens"] += prompt_lengths
        columns["response_tokens"] += [t - p for t, p in zip(totals, prompt_lengths, strict=True)]
        columns["total_tokens"] += totals
        columns["trainable_tokens"] += trainable
    return pa.table({k: pa.array(v, pa.int64()) for k, v in columns.items()})


def conversations_of(table: pa.Table) -> list[list[dict[str, str]]]:
    """The conversation of every row, from either output form (messages, prompt + completion)."""
    if "messages" in table.column_names:
        return table.column("messages").to_pylist()
    prompts, completions = table.column("prompt").to_pylist(), table.column("completion")
    return [p + c for p, c in zip(prompts, completions.to_pylist(), strict=True)]


@dataclass
class TokenCounter:
    """A tokenizer (loaded on first use) and the on-disk cache of its counts per row id."""

    name: str
    cache_dir: Path | None = None
    tokenizer: Any = None
    counted: int = field(default=0, init=False)  # rows counted (not found in the cache)
    known: str | None = field(default=None, init=False)  # the fingerprint, once known

    def load(self) -> Any:
        """The tokenizer, loaded once."""
        if self.tokenizer is None:
            self.tokenizer = load_tokenizer(self.name, self.cache_dir)
        return self.tokenizer

    def fingerprint(self) -> str:
        """sha256 of the tokenizer and its chat template (recorded once it is known, so that a
        later counter with every count cached need not load the tokenizer)."""
        if self.known is None and self.tokenizer is None:
            self.known = known_fingerprint(self.name, self.cache_dir)
        if self.known is None:
            self.known = fingerprint(self.load())
            record_fingerprint(self.name, self.cache_dir, self.known)
        return self.known

    def cache_file(self) -> Path | None:
        """Where this tokenizer's counts are cached (None: no cache folder)."""
        if self.cache_dir is None:
            return None
        return Path(self.cache_dir) / "tokens" / f"{self.fingerprint()[:32]}.parquet"

    def count(self, table: pa.Table) -> pa.Table:
        """Per row of `table` (same order): `id` and the four counts, from cache where known."""
        ids = table.column("id").to_pylist()
        path = self.cache_file()
        known = pq.read_table(path) if path is not None and path.is_file() else None
        index = {} if known is None else {i: n for n, i in enumerate(known["id"].to_pylist())}
        first: dict[str, int] = {}
        for position, row_id in enumerate(ids):
            if row_id not in index and row_id not in first:
                first[row_id] = position
        if first:
            rows = table.take(pa.array(list(first.values()), pa.int64()))
            try:
                fresh = count_conversations(self.load(), conversations_of(rows))
            except TokenizerError:
                raise
            except Exception as error:  # a chat template may refuse roles (jinja raises)
                raise TokenizerError(
                    f"tokenizer {self.name!r}: its chat template failed on these rows "
                    f"({type(error).__name__}: {error}); name another `tokenizer:` in the recipe"
                ) from error
            fresh = fresh.add_column(0, "id", pa.array(list(first), pa.string())).cast(
                TOKENS_SCHEMA
            )
            known = fresh if known is None else pa.concat_tables([known.cast(TOKENS_SCHEMA), fresh])
            index = {i: n for n, i in enumerate(known["id"].to_pylist())}
            self.counted += len(first)
            if path is not None:
                write_parquet_atomic(known, path)
        if known is None:
            return TOKENS_SCHEMA.empty_table()
        return known.take(pa.array([index[i] for i in ids], pa.int64())).cast(TOKENS_SCHEMA)


def token_counter(recipe: Recipe, cache_dir: Path | None) -> TokenCounter:
    """The counter of `recipe`: its `tokenizer`, else its train model, else SmolLM2."""
    model = recipe.train.base_model if recipe.train is not None else None
    return TokenCounter(tokenizer_name(recipe.tokenizer, model), cache_dir)


def per_source(labels: list[str], counts: pa.Table) -> dict[str, dict[str, int]]:
    """Rows and token sums per label (recipe source), labels sorted.

    `counts` holds the four count columns, one row per label (same order). Keys per label:
    rows, prompt_tokens, response_tokens, total_tokens, trainable_tokens.
    """
    result: dict[str, dict[str, int]] = {}
    columns = {name: counts.column(name).to_numpy() for name in COUNT_COLUMNS}
    label_array = np.array(labels, dtype=object)
    for label in sorted(set(labels)):
        mask = label_array == label
        result[label] = {"rows": int(mask.sum())}
        result[label].update({name: int(values[mask].sum()) for name, values in columns.items()})
    return result
