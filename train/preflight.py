"""Pre-flight check of a training run, before any GPU time is spent.

Checks that the data is in a format TRL takes, that the tokenizer has a chat template (with
`{% generation %}` markers when the loss is assistant-only, or one TRL knows how to patch),
measures every row's token length exactly as TRL will tokenize it, counts the rows `max_length`
truncates and the rows left with no loss token (TRL drops those), and estimates how well the rows
pack (best-fit decreasing, as TRL's `bfd`) against plain padded batches.

Blocking issues stop a real run; warnings are printed and the run goes on.

    >>> report = preflight(data, tokenizer, spec)  # doctest: +SKIP
    >>> report.truncated_rows, report.blocking  # doctest: +SKIP
    (3, False)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from tqdm.auto import tqdm

from train.data import TrainData
from train.packing import LengthStats, PackingEstimate, length_stats, packing_estimate
from train.spec import TrainSpec

NO_CHAT_TEMPLATE = "no_chat_template"
NO_GENERATION_MARKERS = "no_generation_markers"
NOT_CONVERSATIONAL = "assistant_only_needs_messages"
EMPTY_ASSISTANT_MASK = "empty_assistant_mask"
TRUNCATED = "rows_truncated"
NO_LOSS_TOKENS = "rows_without_loss_tokens"
NOTHING_TO_TRAIN = "nothing_to_train"

_CHATML_FIX = (
    "fix: add `chat_template: chatml` to the recipe's train: section (instructmix's ChatML "
    "template with generation markers), or use `loss: completion_only` or `loss: all`"
)


class Issue(BaseModel):
    """One finding of the pre-flight check; `blocking` ones stop a run."""

    level: Literal["blocking", "warning"]
    code: str
    message: str


class PreflightReport(BaseModel):
    """Everything the pre-flight check found, renderable as text."""

    format: str
    conversational: bool
    loss: str
    chat_template: str
    max_length: int
    lengths: LengthStats
    truncated_rows: int
    truncated_tokens: int
    rows_without_loss: int
    packing: PackingEstimate
    issues: list[Issue] = Field(default_factory=list)

    @property
    def blocking(self) -> list[Issue]:
        """The issues that stop a run."""
        return [issue for issue in self.issues if issue.level == "blocking"]

    def render(self) -> str:
        """A short human-readable summary."""
        stats, pack = self.lengths, self.packing
        share = self.truncated_rows / stats.rows if stats.rows else 0.0
        lines = [
            f"format: {self.format} ({'conversational' if self.conversational else 'plain text'}),"
            f" loss: {self.loss}",
            f"chat template: {self.chat_template}",
            f"rows: {stats.rows:,}  tokens: {stats.tokens:,}",
            f"token length: min {stats.min}  mean {stats.mean:.1f}  p50 {stats.p50}  "
            f"p90 {stats.p90}  p99 {stats.p99}  max {stats.max}",
            f"max_length {self.max_length}: {self.truncated_rows:,} rows truncated ({share:.1%}),"
            f" {self.truncated_tokens:,} tokens cut; {self.rows_without_loss:,} rows keep no"
            " loss token",
            f"padding efficiency unpacked (batch {pack.batch_size}): {pack.padded_efficiency:.1%}"
            f"; bfd packing: {pack.packed_sequences:,} sequences, fill {pack.packed_fill:.1%};"
            f" steps/epoch {pack.steps_unpacked:,} -> {pack.steps_packed:,};"
            f" expected speedup x{pack.expected_speedup:.2f}",
        ]
        for issue in self.issues:
            lines.append(f"{issue.level.upper()} [{issue.code}]: {issue.message}")
        lines.append("verdict: " + ("BLOCKED" if self.blocking else "ready"))
        return "\n".join(lines)


def _template_of(tokenizer: Any) -> str | None:
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    return template


def check_template(tokenizer: Any, spec: TrainSpec, data: TrainData) -> tuple[str, list[Issue]]:
    """Describe the chat template and list the issues it raises for this loss and data."""
    from trl.chat_template_utils import has_generation_markers

    template = _template_of(tokenizer)
    if not data.conversational:
        if spec.loss == "assistant_only":
            return "not used (plain text)", [
                Issue(
                    level="blocking",
                    code=NOT_CONVERSATIONAL,
                    message="loss assistant_only needs conversational rows (messages); this "
                    "mixture is plain prompt/completion text: use `loss: completion_only`",
                )
            ]
        return "not used (plain text)", []
    if not template:
        return "missing", [
            Issue(
                level="blocking",
                code=NO_CHAT_TEMPLATE,
                message="the tokenizer has no chat template, so conversational rows cannot be "
                f"rendered; {_CHATML_FIX.removeprefix('fix: ')}",
            )
        ]
    if spec.loss != "assistant_only":
        return "present", []
    if has_generation_markers(template):
        return "present, with generation markers", []
    if _patched_template(tokenizer):
        return "present; TRL patches in generation markers (a template it knows)", []
    return "present, without generation markers", [
        Issue(
            level="blocking",
            code=NO_GENERATION_MARKERS,
            message="loss assistant_only needs {% generation %} markers around assistant turns "
            f"in the chat template, and TRL cannot patch this one; {_CHATML_FIX}",
        )
    ]


def _patched_template(tokenizer: Any) -> str | None:
    """The template TRL swaps in for assistant-only loss, or None when it keeps the tokenizer's."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if has_generation_markers(_template_of(tokenizer)):
        return None
    try:
        return get_training_chat_template(tokenizer)
    except ValueError:
        return None


def _first_one(mask: Sequence[int]) -> int:
    for index, bit in enumerate(mask):
        if bit:
            return index
    return len(mask)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def row_tokens(row: dict[str, Any], tokenizer: Any, loss: str, chat_template: str | None = None):
    """(length, first loss position) of one row, tokenized the way TRL's SFTTrainer does it.

    The first loss position is the index of the first token whose label is kept; a row whose first
    loss position is at or beyond `max_length` keeps no loss token after truncation.
    """
    kwargs = {"chat_template": chat_template} if chat_template else {}
    if "messages" in row:
        out = tokenizer.apply_chat_template(
            row["messages"],
            tokenize=True,
            return_dict=True,
            return_assistant_tokens_mask=loss == "assistant_only",
            **kwargs,
        )
        ids = out["input_ids"]
        start = _first_one(out["assistant_masks"]) if loss == "assistant_only" else 0
        return len(ids), start
    prompt, completion = row["prompt"], row["completion"]
    if isinstance(prompt, list):
        prompt_ids = tokenizer.apply_chat_template(
            prompt, tokenize=True, return_dict=True, add_generation_prompt=True, **kwargs
        )["input_ids"]
        full = tokenizer.apply_chat_template(
            prompt + completion,
            tokenize=True,
            return_dict=True,
            return_assistant_tokens_mask=loss == "assistant_only",
            **kwargs,
        )
        ids = full["input_ids"]
        if loss == "assistant_only":
            return len(ids), _first_one(full["assistant_masks"])
    else:
        eos = tokenizer.eos_token or ""
        completion = completion if completion.endswith(eos) else completion + eos
        prompt_ids = tokenizer(text=prompt)["input_ids"]
        ids = tokenizer(text=prompt + completion)["input_ids"]
    start = _common_prefix(prompt_ids, ids) if loss == "completion_only" else 0
    return len(ids), start


def _measure_batch(batch: dict[str, list], tokenizer: Any, loss: str, template: str | None):
    rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
    pairs = [row_tokens(row, tokenizer, loss, template) for row in rows]
    return {"_length": [n for n, _ in pairs], "_start": [s for _, s in pairs]}


def measure_rows(
    rows: Any,
    tokenizer: Any,
    loss: str,
    template: str | None = None,
    *,
    num_proc: int | None = None,
    show_progress: bool = False,
) -> list[tuple[int, int]]:
    """`row_tokens` of every row of a `datasets.Dataset`, in order.

    Large datasets (>= 20,000 rows) are measured by `num_proc` processes (default: every CPU,
    at most 16); smaller ones in this process.
    """
    if num_proc is None:
        num_proc = min(os.cpu_count() or 1, 16) if len(rows) >= 20_000 else 1
    if num_proc <= 1:
        return [
            row_tokens(row, tokenizer, loss, template)
            for row in tqdm(rows, desc="pre-flight: tokenizing", disable=not show_progress)
        ]
    measured = rows.map(
        _measure_batch,
        batched=True,
        batch_size=500,
        num_proc=num_proc,
        remove_columns=rows.column_names,
        fn_kwargs={"tokenizer": tokenizer, "loss": loss, "template": template},
        desc="pre-flight: tokenizing",
        load_from_cache_file=False,
    )
    return list(zip(measured["_length"], measured["_start"], strict=True))


def preflight(
    data: TrainData,
    tokenizer: Any,
    spec: TrainSpec,
    *,
    show_progress: bool = False,
    num_proc: int | None = None,
) -> PreflightReport:
    """Check `data` against `tokenizer` and `spec` before training; see the module docstring.

    `num_proc` processes tokenize the rows (default: see `measure_rows`).
    """
    description, issues = check_template(tokenizer, spec, data)
    codes = {issue.code for issue in issues}
    rendering_ok = not codes & {NO_CHAT_TEMPLATE, NOT_CONVERSATIONAL}
    template = (
        _patched_template(tokenizer) if rendering_ok and spec.loss == "assistant_only" else None
    )
    # Without usable markers the run is blocked; measure lengths as for loss "all".
    loss = "all" if NO_GENERATION_MARKERS in codes else spec.loss
    if rendering_ok:
        measured = measure_rows(
            data.train, tokenizer, loss, template, num_proc=num_proc, show_progress=show_progress
        )
    else:  # count characters so the report still says something about the size of the rows
        measured = [(len(str(row)), 0) for row in data.train]
    lengths = [length for length, _ in measured]
    max_length = spec.max_length
    truncated = [n for n in lengths if n > max_length]
    no_loss = sum(1 for length, start in measured if start >= min(length, max_length))
    if rendering_ok and loss == "assistant_only" and any(s >= n for n, s in measured):
        issues.append(
            Issue(
                level="blocking",
                code=EMPTY_ASSISTANT_MASK,
                message="some rows have no token inside {% generation %} markers; the chat "
                "template does not mark assistant turns: " + _CHATML_FIX,
            )
        )
    elif rendering_ok and no_loss == len(measured):
        issues.append(
            Issue(
                level="blocking",
                code=NOTHING_TO_TRAIN,
                message=f"no row keeps a loss token within max_length {max_length}; raise it",
            )
        )
    elif no_loss:
        issues.append(
            Issue(
                level="warning",
                code=NO_LOSS_TOKENS,
                message=f"{no_loss} rows have no loss token within max_length {max_length}; "
                "TRL drops them",
            )
        )
    stats = length_stats(lengths)
    if truncated:
        issues.append(
            Issue(
                level="warning",
                code=TRUNCATED,
                message=f"{len(truncated)} of {stats.rows} rows exceed max_length {max_length} "
                f"and are cut (p99 length is {stats.p99}; raise max_length to keep more)",
            )
        )
    return PreflightReport(
        format=data.format,
        conversational=data.conversational,
        loss=spec.loss,
        chat_template=description,
        max_length=max_length,
        lengths=stats,
        truncated_rows=len(truncated),
        truncated_tokens=sum(n - max_length for n in truncated),
        rows_without_loss=no_loss,
        packing=packing_estimate(lengths, max_length, spec.per_device_batch_size),
        issues=issues,
    )
