"""The Self-Instruct loop: rounds of instruction generation, filtering, classification and
instance generation until the pool holds N machine instructions.

One round (a batch of `request_batch_size` prompts):
1. each prompt holds 8 numbered instructions: 2 machine-generated ones (once there are any)
   and the rest seeds, shuffled; the model continues the list;
2. each item is normalised and filtered (`filters.py`), then gated by ROUGE-L against the pool
   (seeds + kept machine instructions, growing as items are kept);
3. each kept instruction is classified (few-shot yes/no) and gets instances, output-first
   for classification tasks and input-first otherwise; instances are filtered.

After each completed round the state is written atomically to a JSON file, so a killed run
resumes after its last completed round; with the request cache, replaying costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from generators.self_instruct import filters, parse, prompts
from generators.self_instruct.llm import (
    BudgetExhausted,
    Completion,
    LLMClient,
    Sampling,
)
from generators.self_instruct.novelty import NoveltyIndex
from generators.self_instruct.seeds import SeedTask
from instances import InstructmixError
from instances.io import write_text_atomic

STATE_VERSION = 1
GENERATION_STOP = ("\n\n", "\n16", "16.", "16 .")


class BootstrapConfig(BaseModel):
    """Settings of one bootstrap run (all of them part of the resume fingerprint)."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(100, ge=1, le=1_000_000, description="machine instructions to generate")
    seed: int = 0
    request_batch_size: int = Field(5, ge=1, le=256, description="prompts per round")
    prompt_instructions: int = Field(8, ge=2, le=14)
    machine_in_context: int = Field(2, ge=0, le=8)
    similarity_threshold: float = Field(0.7, ge=0, le=1, description="reject ROUGE-L F above")
    capitalize: bool = Field(True, description="str.capitalize() new instructions as the original")
    max_instances: int = Field(5, ge=1, le=20, description="examples asked for per task")
    max_instance_chars: int = Field(4000, ge=10)
    max_rounds: int = Field(10_000, ge=1)
    patience: int = Field(25, ge=1, description="stop after this many rounds adding nothing")
    generation: Sampling = Sampling(
        temperature=0.7, top_p=0.5, presence_penalty=2.0, max_tokens=1024, stop=GENERATION_STOP
    )
    classification: Sampling = Sampling(
        temperature=0.0, top_p=1.0, max_tokens=3, stop=("\n", "Task")
    )
    instances: Sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=350, stop=("Task:",))


def fingerprint(config: BootstrapConfig, model: str, seeds: list[SeedTask]) -> str:
    """A hash of everything that decides a run's outcome (a state file must match it)."""
    body = {
        "config": config.model_dump(mode="json"),
        "model": model,
        "seeds": [seed.model_dump(mode="json") for seed in seeds],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def new_state(print_: str) -> dict[str, Any]:
    """An empty run state with fingerprint `print_`."""
    return {
        "version": STATE_VERSION,
        "fingerprint": print_,
        "rounds_done": 0,
        "instructions": [],
        "rejected": [],
        "rounds": [],
        "usage": {},
        "stopped": None,
    }


def load_state(path: Path, print_: str) -> dict[str, Any]:
    """The saved state at `path` (a new one if absent); it must belong to the same settings."""
    if not path.is_file():
        return new_state(print_)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InstructmixError(f"{path}: state file is not valid JSON ({error.msg})") from error
    if state.get("version") != STATE_VERSION or state.get("fingerprint") != print_:
        raise InstructmixError(
            f"{path}: state file belongs to a run with other settings; delete it to start over"
        )
    return state


def _prompt_for(
    rng: random.Random, seeds: list[SeedTask], machine: list[dict], config: BootstrapConfig
) -> tuple[str, list[str]]:
    picked = rng.sample(machine, min(config.machine_in_context, len(machine)))
    chosen = [(m["id"], m["instruction"]) for m in picked]
    human = rng.sample(seeds, config.prompt_instructions - len(chosen))
    chosen += [(s.id, s.instruction) for s in human]
    rng.shuffle(chosen)
    return prompts.instruction_prompt([text for _, text in chosen]), [i for i, _ in chosen]


def _gate_items(
    completions: list[Completion],
    contexts: list[list[str]],
    state: dict[str, Any],
    index: NoveltyIndex,
    config: BootstrapConfig,
    round_no: int,
    counts: Counter,
) -> list[dict]:
    """Filter each reply's items; kept ones join the pool (and `index`) in order."""
    added = []
    for request, (completion, context) in enumerate(zip(completions, contexts, strict=True)):
        base = {"round": round_no, "request": request, "in_context": context}
        if completion.finish_reason == "length":
            counts[filters.TRUNCATED_RESPONSE] += 1
            state["rejected"].append(
                {**base, "text": completion.text, "reason": filters.TRUNCATED_RESPONSE}
            )
            continue
        for raw in parse.split_instructions(completion.text):
            if len(state["instructions"]) >= config.n:
                break
            text = filters.normalise_instruction(raw, config.capitalize)
            reason = filters.instruction_reason(text)
            record = {**base, "text": text}
            if reason is None:
                scores = index.scores(text)
                top = index.most_similar(scores)
                record["max_rouge_l"] = float(scores.max()) if len(scores) else 0.0
                record["most_similar"] = top
                if record["max_rouge_l"] > config.similarity_threshold:
                    reason = filters.TOO_SIMILAR
            counts["items"] += 1
            if reason is not None:
                counts[reason] += 1
                state["rejected"].append({**record, "reason": reason})
                continue
            machine = {
                "id": f"machine_{len(state['instructions'])}",
                "instruction": text,
                "round": round_no,
                "request": request,
                "in_context": context,
                "max_rouge_l": record["max_rouge_l"],
                "avg_rouge_l": float(scores.mean()) if len(scores) else 0.0,
                "most_similar": record["most_similar"],
            }
            index.add(text)
            state["instructions"].append(machine)
            added.append(machine)
    return added


def _fill_instances(client: LLMClient, added: list[dict], config: BootstrapConfig) -> None:
    """Classify each new instruction, then generate and filter its instances (in place)."""
    if not added:
        return
    asks = [prompts.classification_prompt(m["instruction"]) for m in added]
    for machine, reply in zip(
        added, client.complete_many(asks, config.classification), strict=True
    ):
        machine["is_classification"] = parse.parse_is_classification(reply.text)
    sampling = config.instances.model_copy(
        update={"stop": (f"Example {config.max_instances + 1}", *config.instances.stop)}
    )
    asks = [
        prompts.output_first_prompt(m["instruction"])
        if m["is_classification"]
        else prompts.input_first_prompt(m["instruction"])
        for m in added
    ]
    for machine, reply in zip(added, client.complete_many(asks, sampling), strict=True):
        truncated = reply.finish_reason == "length"
        if machine["is_classification"]:
            pairs = parse.parse_output_first(reply.text, truncated)
        else:
            pairs = parse.parse_input_first(reply.text)
            pairs = pairs[:-1] if truncated and len(pairs) > 1 else pairs
        pairs = pairs[: config.max_instances * 2]
        reasons = filters.instance_reasons(pairs, config.max_instance_chars)
        machine["instances"] = [
            {"input": given, "output": answer, "reason": reason}
            for (given, answer), reason in zip(pairs, reasons, strict=True)
        ]
        machine["instance_reply_truncated"] = truncated


def run_round(
    client: LLMClient,
    seeds: list[SeedTask],
    state: dict[str, Any],
    index: NoveltyIndex,
    config: BootstrapConfig,
) -> dict[str, Any]:
    """Run round number `state['rounds_done']` and fold it into `state`; return its stats."""
    started = time.perf_counter()
    round_no = state["rounds_done"]
    rng = random.Random(f"{config.seed}:{round_no}")
    pairs = [
        _prompt_for(rng, seeds, state["instructions"], config)
        for _ in range(config.request_batch_size)
    ]
    before_tokens = client.usage.total_tokens
    completions = client.complete_many([p for p, _ in pairs], config.generation)
    trial = {
        **state,
        "instructions": list(state["instructions"]),
        "rejected": list(state["rejected"]),
    }
    counts: Counter = Counter()
    pool_before = len(index)
    added = _gate_items(completions, [c for _, c in pairs], trial, index, config, round_no, counts)
    try:
        _fill_instances(client, added, config)
    except BaseException:
        index.truncate(pool_before)
        raise
    kept_instances = sum(1 for m in added for i in m["instances"] if i["reason"] is None)
    stats = {
        "round": round_no,
        "prompts": len(pairs),
        "items": counts.pop("items", 0),
        "kept": len(added),
        "rejected_by_reason": dict(sorted(counts.items())),
        "classification": sum(m["is_classification"] for m in added),
        "instances_kept": kept_instances,
        "pool": len(trial["instructions"]),
        "tokens": client.usage.total_tokens - before_tokens,
        "seconds": round(time.perf_counter() - started, 3),
    }
    state.update(trial)
    state["rounds"].append(stats)
    state["rounds_done"] = round_no + 1
    return stats


def bootstrap(
    client: LLMClient,
    seeds: list[SeedTask],
    config: BootstrapConfig,
    state_path: Path,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Grow the pool to `config.n` machine instructions, resuming from `state_path` if present.

    Returns the final state; `state['stopped']` is None when N was reached, else one of
    `token_budget`, `max_rounds`, `no_progress`.
    """
    state = load_state(state_path, fingerprint(config, client.config.model, seeds))
    index = NoveltyIndex([s.instruction for s in seeds])
    for machine in state["instructions"]:
        index.add(machine["instruction"])
    previous = Counter(state.get("usage") or {})
    state["stopped"] = None
    idle = 0
    for stats in reversed(state["rounds"]):
        if stats["kept"]:
            break
        idle += 1
    while len(state["instructions"]) < config.n:
        if state["rounds_done"] >= config.max_rounds:
            state["stopped"] = "max_rounds"
            break
        if idle >= config.patience:
            state["stopped"] = "no_progress"
            break
        try:
            stats = run_round(client, seeds, state, index, config)
        except BudgetExhausted:
            state["stopped"] = "token_budget"
            break
        idle = 0 if stats["kept"] else idle + 1
        state["usage"] = _merged_usage(previous, client)
        write_text_atomic(json.dumps(state, ensure_ascii=False), state_path)
        if on_round is not None:
            on_round(stats)
    state["usage"] = _merged_usage(previous, client)
    write_text_atomic(json.dumps(state, ensure_ascii=False), state_path)
    return state


def _merged_usage(previous: Counter, client: LLMClient) -> dict[str, int]:
    now = client.usage.as_dict()
    now.pop("errors")
    return {key: int(previous.get(key, 0)) + value for key, value in now.items()}
