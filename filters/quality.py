"""Quality heuristics on prompt and response, each with its own reject reason.

Checked in this order; the first that applies is the row's reason:

| reason | rule (response unless said) |
| --- | --- |
| `response_equals_prompt` | the response repeats the prompt (after NFKC, case, whitespace) |
| `refusal` | a refusal: "I'm sorry, but I can't...", "I cannot fulfill...", ... |
| `ai_disclaimer` | AI boilerplate: "As an AI language model...", "I don't have personal opinions" |
| `placeholder_text` | prompt or response holds lorem ipsum, `[insert ...]`, `<noinput>`, ... |
| `unbalanced_code_fence` | an odd number of ``` fences in the prompt or the response |
| `mostly_non_alphabetic` | fewer than `min_alpha_fraction` letters among non-space characters |
| `repetitive` | more than `max_repetition` of the response's word n-grams are repeats |
| `pii_email`, `pii_phone`, `pii_url` | personal data of a kind set to `drop` (prompt or response) |

Empty, too short and too long texts are the `length` filter's job. Personal data of a kind set
to `mask` is replaced by `[EMAIL]`, `[PHONE]` or `[URL]` in every turn of a kept row: that row is
kept (not rejected), gets a new `id` (the hash of its new messages) and `meta.pii_masked`
(counts per kind, and the id it had before). Should masking make a row identical to an earlier
kept row (two rows that differed only in an e-mail address), it is rejected as
`duplicate_after_masking`, `duplicate_of` naming that row.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Literal

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from filters import pii
from filters.text import prompts_and_responses
from instances import StageResult, instance_id, normalise_messages
from instances.context import StageContext
from instances.rejected import split_rows
from instances.schema import INSTANCE_SCHEMA, MESSAGE_TYPE

STAGE = "quality"
RESPONSE_EQUALS_PROMPT = "response_equals_prompt"
REFUSAL = "refusal"
AI_DISCLAIMER = "ai_disclaimer"
PLACEHOLDER_TEXT = "placeholder_text"
UNBALANCED_CODE_FENCE = "unbalanced_code_fence"
MOSTLY_NON_ALPHABETIC = "mostly_non_alphabetic"
REPETITIVE = "repetitive"
PII_REASONS = {kind: f"pii_{kind}" for kind in pii.PII_KINDS}
DUPLICATE_AFTER_MASKING = "duplicate_after_masking"

REFUSAL_PATTERN = (
    r"(?i)^\W*(?:i'?m sorry|i am sorry|sorry|unfortunately|i apologi[sz]e)?[, ]*(?:but )?"
    r"(?:i|we) (?:can ?not|can't|cannot|won't|will not|am (?:not able|unable)|'m (?:not able|"
    r"unable)|am not allowed|do not feel comfortable|don't feel comfortable) "
    r"(?:to )?(?:help(?: you| with|[.,!]|$)|assist|comply|fulfil|fulfill|provide|answer|do that|"
    r"complete|create|"
    r"generate|write|perform|engage|respond|browse|access|share)"
)
AI_DISCLAIMER_PATTERN = (
    r"(?i)\bas an? (?:ai|artificial intelligence|large language model|language model|"
    r"ai language model|ai assistant|digital assistant|virtual assistant|chatbot)(?:[ ,.;:!]|$)"
    r"|\bi (?:am|'m) (?:just |only )?an? (?:ai|artificial intelligence|language model)\b"
    r"|\bi (?:do not|don't) have (?:personal (?:opinions|beliefs|feelings|experiences|"
    r"preferences)|the ability to (?:browse|access))"
    r"|\bmy (?:knowledge|training data) (?:cutoff|cut-off)\b"
)
PLACEHOLDER_PATTERN = (
    r"(?i)\blorem ipsum\b|\[(?:insert|your|add|enter|name of|placeholder)\b[^\]\n]{0,60}\]"
    r"|<\s*(?:noinput|nooutput|no input|no output)\s*>|\bTODO: ?fill\b"
)
_FENCE = r"(?m)^\s*```"


class Config(BaseModel):
    """Which quality heuristics run, their limits, and what to do with personal data."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["quality"] = "quality"
    response_equals_prompt: bool = True
    refusal: bool = True
    ai_disclaimer: bool = True
    placeholder: bool = True
    code_fences: bool = True
    min_alpha_fraction: float | None = Field(
        default=0.25, ge=0, le=1, description="least share of letters among non-space chars"
    )
    min_alpha_chars: int = Field(
        default=40, ge=1, description="responses with fewer non-space chars skip the letter check"
    )
    max_repetition: float | None = Field(
        default=0.35, gt=0, le=1, description="most share of repeated word n-grams in a response"
    )
    repetition_ngram: int = Field(default=3, ge=1, le=10)
    min_repetition_words: int = Field(
        default=30, ge=2, description="responses with fewer words skip the repetition check"
    )
    email: Literal["keep", "mask", "drop"] = "mask"
    phone: Literal["keep", "mask", "drop"] = "mask"
    url: Literal["keep", "mask", "drop"] = "keep"


def repetition(text: str, ngram: int) -> float:
    """Share of the word n-grams of `text` that repeat an earlier one (0 when there are none).

    >>> repetition("a b c a b c a b c", 3)
    0.5714285714285714
    """
    words = text.lower().split()
    grams = [tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(Counter(grams)) / len(grams)


def _checks(config: Config) -> list[tuple[str, pl.Expr]]:
    """The vectorised checks that are on, in order, as (reason, boolean expression)."""
    prompt, response = pl.col("prompt"), pl.col("response")
    checks: list[tuple[str, pl.Expr]] = []
    if config.response_equals_prompt:
        checks.append((RESPONSE_EQUALS_PROMPT, pl.col("norm_prompt") == pl.col("norm_response")))
    if config.refusal:
        checks.append((REFUSAL, response.str.contains(REFUSAL_PATTERN)))
    if config.ai_disclaimer:
        checks.append((AI_DISCLAIMER, response.str.contains(AI_DISCLAIMER_PATTERN)))
    if config.placeholder:
        checks.append(
            (
                PLACEHOLDER_TEXT,
                prompt.str.contains(PLACEHOLDER_PATTERN)
                | response.str.contains(PLACEHOLDER_PATTERN),
            )
        )
    if config.code_fences:
        odd = (prompt.str.count_matches(_FENCE) % 2 == 1) | (
            response.str.count_matches(_FENCE) % 2 == 1
        )
        checks.append((UNBALANCED_CODE_FENCE, odd))
    if config.min_alpha_fraction is not None:
        visible = response.str.count_matches(r"\S")
        letters = response.str.count_matches(r"[^\W\d_]")
        low = (visible >= config.min_alpha_chars) & (letters < config.min_alpha_fraction * visible)
        checks.append((MOSTLY_NON_ALPHABETIC, low))
    if config.max_repetition is not None:
        checks.append((REPETITIVE, pl.col("repetition") > config.max_repetition))
    for kind in pii.PII_KINDS:
        if getattr(config, kind) == "drop":
            pattern = pii.PATTERNS[kind]
            found = prompt.str.contains(pattern) | response.str.contains(pattern)
            checks.append((PII_REASONS[kind], found))
    return checks


def reasons_for(prompts: list[str], responses: list[str], config: Config) -> list[str | None]:
    """The reject reason of each prompt/response pair (None keeps it), first check first."""
    frame = pl.DataFrame(
        {"prompt": prompts, "response": responses},
        schema=[("prompt", pl.String), ("response", pl.String)],
    )
    normal = [
        pl.col(c)
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .alias(f"norm_{c}")
        for c in ("prompt", "response")
    ]
    frame = frame.with_columns(normal)
    if config.max_repetition is not None:
        frame = frame.with_columns(
            pl.Series(
                "repetition",
                [
                    repetition(r, config.repetition_ngram)
                    if len(r.split()) >= config.min_repetition_words
                    else 0.0
                    for r in responses
                ],
                dtype=pl.Float64,
            )
        )
    checks = _checks(config)
    if not checks:
        return [None] * len(prompts)
    reason = pl.lit(None, dtype=pl.String)
    for name, condition in reversed(checks):
        reason = pl.when(condition).then(pl.lit(name)).otherwise(reason)
    return frame.select(reason.alias("reason")).get_column("reason").to_list()


def mask_rows(table: pa.Table, config: Config) -> tuple[pa.Table, dict[str, int]]:
    """`table` with masked personal data (kinds set to `mask`), new ids and `meta.pii_masked`."""
    kinds = [kind for kind in pii.PII_KINDS if getattr(config, kind) == "mask"]
    totals: Counter[str] = Counter()
    if not kinds or table.num_rows == 0:
        return table, dict(totals)
    # Find the rows that hold anything to mask with one vectorised pass, then edit only those.
    joined = (
        pl.from_arrow(table.select(["messages"]))
        .with_row_index("row")
        .explode("messages")
        .unnest("messages")
        .group_by("row", maintain_order=True)
        .agg(pl.col("content").str.join("\n"))
    )
    pattern = "|".join(f"(?:{pii.PATTERNS[kind]})" for kind in kinds)
    candidates = joined.filter(pl.col("content").str.contains(pattern)).get_column("row").to_list()
    if not candidates:
        return table, {}
    messages = table.column("messages").to_pylist()
    ids = table.column("id").to_pylist()
    metas = table.column("meta").to_pylist()
    changed = 0
    for row in candidates:
        turns = messages[row]
        counts: Counter[str] = Counter()
        new_turns = []
        for turn in turns:
            content = turn["content"]
            for kind in kinds:
                content, replaced = pii.mask(kind, content)
                counts[kind] += replaced
            new_turns.append({"role": turn["role"], "content": content})
        if not sum(counts.values()):
            continue
        changed += 1
        totals.update(counts)
        messages[row] = normalise_messages(new_turns)
        meta = json.loads(metas[row])
        meta["pii_masked"] = {"counts": dict(+counts), "original_id": ids[row]}
        metas[row] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        ids[row] = instance_id(messages[row])
    if not changed:
        return table, {}
    columns = {name: table.column(name) for name in INSTANCE_SCHEMA.names}
    columns["id"] = pa.array(ids, pa.string())
    columns["messages"] = pa.array(messages, pa.list_(MESSAGE_TYPE))
    columns["meta"] = pa.array(metas, pa.string())
    masked = pa.table(columns, schema=INSTANCE_SCHEMA)
    return masked, {**dict(totals), "rows": changed}


def run(table: pa.Table, config: Config, ctx: StageContext | None = None) -> StageResult:
    """Reject rows that fail a quality heuristic; mask personal data in the rows kept.

    Columns read: messages, meta. Rejected rows get reject_stage `quality` and one reason from
    the module table. Kept rows with masked data get a new id and `meta.pii_masked`; a masked
    row that became identical to an earlier kept row is rejected as `duplicate_after_masking`
    with `duplicate_of` naming that row.
    """
    started = time.perf_counter()
    prompts, responses = prompts_and_responses(table)
    reasons = reasons_for(prompts, responses, config)
    result = split_rows(table, STAGE, reasons)
    kept, masked = mask_rows(result.kept, config)
    rejected, report = result.rejected, result.report
    if masked:
        seen: set[str] = set()
        again: list[str | None] = []
        for row_id in kept.column("id").to_pylist():
            again.append(row_id if row_id in seen else None)
            seen.add(row_id)
        if any(again):
            second = split_rows(
                kept, STAGE, [DUPLICATE_AFTER_MASKING if d else None for d in again], again
            )
            kept = second.kept
            rejected = pa.concat_tables([rejected, second.rejected])
            drops = Counter(report.dropped_by_reason)
            drops.update(second.report.dropped_by_reason)
            report = report.model_copy(
                update={"rows_out": kept.num_rows, "dropped_by_reason": dict(sorted(drops.items()))}
            )
    report = report.model_copy(
        update={"seconds": time.perf_counter() - started, "extras": {"pii_masked": masked}}
    )
    return StageResult(kept, rejected, report)
