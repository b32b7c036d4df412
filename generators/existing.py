"""Adapters for existing instruction sets: Alpaca format (Stanford Alpaca, Code Alpaca,
GPT-4-LLM, Self-Instruct's released GPT-3 generations) and LIMA, into formatted instances.

Reject reasons: `missing_field` (a row lacks instruction or output), `empty_turn` (a turn
is blank after normalisation).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from instances import StageResult, make_instance, make_table
from instances.context import StageContext
from instances.rejected import split_rows
from instances.sources import PublicSource, load_rows

STAGE = "generate"
MISSING_FIELD = "missing_field"
EMPTY_TURN = "empty_turn"

DatasetName = Literal[
    "stanford_alpaca", "code_alpaca", "code_alpaca_new", "gpt4_llm", "lima", "self_instruct_gpt3"
]

# Each existing set: the public file, its origin kind and the category its rows carry.
DATASETS: dict[str, tuple[PublicSource, str, str]] = {
    "stanford_alpaca": (
        PublicSource(
            name="stanford_alpaca",
            hub_id="tatsu-lab/alpaca",
            mirror_path="stanford_alpaca/alpaca_data.json",
            format="json",
            license="cc-by-nc-4.0",
        ),
        "distilled",
        "general",
    ),
    "code_alpaca": (
        PublicSource(
            name="code_alpaca",
            hub_id="sahil2801/CodeAlpaca-20k",
            mirror_path="codealpaca/code_alpaca_2k.json",
            format="json",
            license="cc-by-nc-4.0",
        ),
        "distilled",
        "coding",
    ),
    "code_alpaca_new": (
        PublicSource(
            name="code_alpaca_new",
            hub_id="sahil2801/CodeAlpaca-20k",
            mirror_path="codealpaca/new_codealpaca.json",
            format="json",
            license="cc-by-nc-4.0",
        ),
        "distilled",
        "coding",
    ),
    "gpt4_llm": (
        PublicSource(
            name="gpt4_llm",
            hub_id="vicgalle/alpaca-gpt4",
            mirror_path="gpt4_llm/alpaca_gpt4_sample_999_via_llamafactory.json",
            format="json",
            license="cc-by-nc-4.0",
        ),
        "distilled",
        "general",
    ),
    # Self-Instruct's released GPT-3 generations (a 1,000-row sample of all_instances_82K in
    # Alpaca format, see the mirror's PROVENANCE.md): recipes use these rather than a live run.
    "self_instruct_gpt3": (
        PublicSource(
            name="self_instruct_gpt3",
            hub_id="yizhongw/self_instruct",
            hub_config="self_instruct",
            mirror_path="self_instruct/gpt3_generations_sample_1000.json",
            format="json",
            license="apache-2.0",
        ),
        "self_instruct",
        "general",
    ),
    "lima": (
        PublicSource(
            name="lima",
            hub_id="GAIR/lima",
            mirror_path="lima/lima.json",
            format="json",
            license="cc-by-nc-sa-4.0",
        ),
        "human",
        "conversation",
    ),
}


class Config(BaseModel):
    """An existing instruction set in Alpaca format (or LIMA's conversations)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["existing"] = "existing"
    dataset: DatasetName


def alpaca_prompt(instruction: str, input_text: str) -> str:
    """The user turn of an Alpaca row: the instruction, then the input after a blank line if any.

    >>> alpaca_prompt("Translate to French.", "Good morning")
    'Translate to French.\\n\\nGood morning'
    """
    instruction, input_text = instruction.strip(), input_text.strip()
    return f"{instruction}\n\n{input_text}" if input_text else instruction


def prompt_completion_messages(prompt: str, completion: str) -> list[dict[str, str]]:
    """Messages of a raw GPT-3 prompt/completion pair (Self-Instruct on the Hub): the prompt
    without its trailing `Output:` cue, the completion without `<|endoftext|>`.

    >>> prompt_completion_messages("Add 2 and 3. Output:", " 5<|endoftext|>")[1]["content"]
    '5'
    """
    text = prompt.rstrip()
    if text.endswith("Output:"):
        text = text[: -len("Output:")]
    answer = completion.replace("<|endoftext|>", "")
    return [
        {"role": "user", "content": text.strip()},
        {"role": "assistant", "content": answer.strip()},
    ]


def row_messages(row: dict[str, Any]) -> list[dict[str, str]] | None:
    """Messages of one Alpaca-format or LIMA row, or None when instruction/output is missing.

    Handles `history` (LLaMA-Factory's folded earlier turns), `conversations` (LIMA on the Hub),
    `prompt`/`completion` (Self-Instruct on the Hub) and Code Alpaca's `response` spelling of
    `output`.
    """
    if isinstance(row.get("conversations"), list):
        turns = [str(t) for t in row["conversations"]]
        if len(turns) < 2:
            return None
        if len(turns) % 2:
            turns = turns[:-1]
        roles = ["user", "assistant"] * (len(turns) // 2)
        return [{"role": r, "content": t} for r, t in zip(roles, turns, strict=True)]
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        return prompt_completion_messages(row["prompt"], row["completion"])
    instruction = row.get("instruction")
    output = row.get("output", row.get("response"))
    if not isinstance(instruction, str) or not isinstance(output, str):
        return None
    messages: list[dict[str, str]] = []
    for pair in row.get("history") or []:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            messages += [
                {"role": "user", "content": str(pair[0])},
                {"role": "assistant", "content": str(pair[1])},
            ]
    messages += [
        {"role": "user", "content": alpaca_prompt(instruction, str(row.get("input") or ""))},
        {"role": "assistant", "content": output},
    ]
    return messages


def row_category(record: dict[str, Any], default: str) -> str:
    """A row's category: LIMA's own `source` (Stack Exchange, wikiHow, ...) when the row has
    one (the Hub format does), so a card can show LIMA's per-source table; else `default`.

    >>> row_category({"source": "wikihow"}, "conversation"), row_category({}, "general")
    ('wikihow', 'general')
    """
    source = record.get("source")
    return source.strip() if isinstance(source, str) and source.strip() else default


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of one existing set; rows lacking a field or with a blank turn rejected.

    Columns written: all of the schema; `meta` carries license, hub id and the row index.
    """
    started = time.perf_counter()
    public, origin, category = DATASETS[config.dataset]
    raw = load_rows(public, ctx.mirror)
    rows, reasons = [], []
    for index, record in enumerate(raw):
        messages = row_messages(record)
        reason = None
        if messages is None:
            reason = MISSING_FIELD
            messages = [
                {"role": "user", "content": str(record)[:200]},
                {"role": "assistant", "content": ""},
            ]
        elif any(not m["content"].strip() for m in messages):
            reason = EMPTY_TURN
        meta = {"license": public.license, "hub_id": public.hub_id, "row": index}
        rows.append(
            make_instance(
                messages,
                source=config.dataset,
                origin=origin,
                task=config.dataset,
                category=row_category(record, category) if config.dataset == "lima" else category,
                template="alpaca" if config.dataset != "lima" else "conversation",
                meta=meta,
            )
        )
        reasons.append(reason)
    table = make_table(rows)
    return split_rows(table, STAGE, reasons, seconds=time.perf_counter() - started)


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The mirror files `generate` reads for `config` (empty when reading from the Hub)."""
    if ctx.mirror is None:
        return []
    return [DATASETS[config.dataset][0].mirror_file(ctx.mirror)]


def licenses(config: Config) -> list[str]:
    """Licenses of the data `config` produces."""
    return [DATASETS[config.dataset][0].license]
