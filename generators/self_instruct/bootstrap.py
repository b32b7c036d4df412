"""The Self-Instruct loop: rounds of instruction generation, filtering, classification and
instance generation until the pool holds N machine instructions.

One round (a batch of `request_batch_size` prompts):
1. each prompt holds 8 numbered instructions: 2 machine-generated ones (once there are any)
   and the rest seeds, shuffled; the model continues the list;
2. each item is normalised and filtered (`filters.py`), then gated by ROUGE-L against the pool
   (seeds + kept machine instructions, growing as items are kept);
3. each kept instruction is classified (few-shot yes/no) and gets instances, output-first
   for classification tasks and input-first otherwise; instances are filtered.

In a collection, the machine instructions of earlier batches (`prior`) join the in-context
candidates and the novelty index holds them, so a batch never repeats an earlier batch.

After each completed round the state (`state.RunState`) is written atomically to a JSON file,
so a killed run resumes after its last completed round; with the request cache, replaying
costs nothing.

Layouts of the classification and instance requests: see `examples.py`.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from generators.self_instruct import filters, parse, prompts
from generators.self_instruct.config import BootstrapConfig
from generators.self_instruct.examples import fill_instances
from generators.self_instruct.llm import BudgetExhausted, Completion, LLMClient
from generators.self_instruct.novelty import NoveltyIndex
from generators.self_instruct.seeds import SeedTask
from generators.self_instruct.state import (
    MachineInstruction,
    RejectedInstruction,
    RoundStats,
    RunState,
    load_state,
)


def fingerprint(
    config: BootstrapConfig, model: str, seeds: Sequence[SeedTask], batch: str = "", prior: int = 0
) -> str:
    """A hash of everything that decides a run's outcome (a state file must match it)."""
    body = {
        "config": config.model_dump(mode="json"),
        "model": model,
        "seeds": [seed.model_dump(mode="json") for seed in seeds],
        "batch": batch,
        "prior": prior,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _prompt_for(
    rng: random.Random,
    seeds: Sequence[SeedTask],
    machine: Sequence[MachineInstruction],
    config: BootstrapConfig,
) -> tuple[str, list[str]]:
    picked = rng.sample(list(machine), min(config.machine_in_context, len(machine)))
    chosen = [(m.id, m.instruction) for m in picked]
    human = rng.sample(list(seeds), config.prompt_instructions - len(chosen))
    chosen += [(s.id, s.instruction) for s in human]
    rng.shuffle(chosen)
    return prompts.instruction_prompt([text for _, text in chosen]), [i for i, _ in chosen]


def _machine_id(batch: str, number: int) -> str:
    return f"machine_{batch}_{number}" if batch else f"machine_{number}"


def _gate_items(
    completions: list[Completion],
    contexts: list[list[str]],
    state: RunState,
    index: NoveltyIndex,
    config: BootstrapConfig,
    counts: Counter,
) -> list[MachineInstruction]:
    """Filter each reply's items; kept ones join the pool (and `index`) in order."""
    added = []
    round_no = state.rounds_done
    for request, (completion, context) in enumerate(zip(completions, contexts, strict=True)):
        base = {"round": round_no, "request": request, "in_context": context}
        if completion.finish_reason == "length":
            counts[filters.TRUNCATED_RESPONSE] += 1
            state.rejected.append(
                RejectedInstruction(**base, text=completion.text, reason=filters.TRUNCATED_RESPONSE)
            )
            continue
        for raw in parse.split_instructions(completion.text):
            if len(state.instructions) >= config.n:
                break
            text = filters.normalise_instruction(raw, config.capitalize)
            reason = filters.instruction_reason(text)
            counts["items"] += 1
            if reason is not None:
                counts[reason] += 1
                state.rejected.append(RejectedInstruction(**base, text=text, reason=reason))
                continue
            scores = index.scores(text)
            top = float(scores.max()) if len(scores) else 0.0
            similar = index.most_similar(scores)
            if top > config.similarity_threshold:
                counts[filters.TOO_SIMILAR] += 1
                state.rejected.append(
                    RejectedInstruction(
                        **base,
                        text=text,
                        reason=filters.TOO_SIMILAR,
                        max_rouge_l=top,
                        most_similar=similar,
                    )
                )
                continue
            machine = MachineInstruction(
                id=_machine_id(state.batch, len(state.instructions)),
                instruction=text,
                batch=state.batch,
                **base,
                max_rouge_l=top,
                avg_rouge_l=float(scores.mean()) if len(scores) else 0.0,
                most_similar=similar,
            )
            index.add(text)
            state.instructions.append(machine)
            added.append(machine)
    return added


def run_round(
    client: LLMClient,
    seeds: Sequence[SeedTask],
    state: RunState,
    index: NoveltyIndex,
    config: BootstrapConfig,
    prior: Sequence[MachineInstruction] = (),
) -> RoundStats:
    """Run round number `state.rounds_done` and fold it into `state`; return its stats."""
    started = time.perf_counter()
    round_no = state.rounds_done
    rng = random.Random(f"{config.seed}:{state.batch}:{round_no}")
    machine = [*prior, *state.instructions]
    pairs = [_prompt_for(rng, seeds, machine, config) for _ in range(config.request_batch_size)]
    before_tokens = client.usage.total_tokens
    completions = client.complete_many([p for p, _ in pairs], config.generation)
    trial = state.model_copy(
        update={"instructions": list(state.instructions), "rejected": list(state.rejected)}
    )
    counts: Counter = Counter()
    pool_before = len(index)
    added = _gate_items(completions, [c for _, c in pairs], trial, index, config, counts)
    try:
        fill_instances(client, added, config)
    except BaseException:
        index.truncate(pool_before)
        raise
    stats = RoundStats(
        round=round_no,
        prompts=len(pairs),
        items=counts.pop("items", 0),
        kept=len(added),
        rejected_by_reason=dict(sorted(counts.items())),
        classification=sum(m.is_classification for m in added),
        instances_kept=sum(len(m.kept_instances()) for m in added),
        pool=len(trial.instructions),
        tokens=client.usage.total_tokens - before_tokens,
        seconds=round(time.perf_counter() - started, 3),
    )
    state.instructions, state.rejected = trial.instructions, trial.rejected
    state.rounds.append(stats)
    state.rounds_done = round_no + 1
    return stats


def bootstrap(
    client: LLMClient,
    seeds: Sequence[SeedTask],
    config: BootstrapConfig,
    state_path: Path,
    on_round: Callable[[RoundStats], None] | None = None,
    *,
    batch: str = "",
    prior: Sequence[MachineInstruction] = (),
    index: NoveltyIndex | None = None,
) -> RunState:
    """Grow the pool by `config.n` machine instructions, resuming from `state_path` if present.

    `prior` are the instructions of the collection's earlier batches and `index` the novelty
    index over seeds + `prior` (built here when None). Returns the final state;
    `state.stopped` is None when N was reached, else `token_budget`, `max_rounds` or
    `no_progress`.
    """
    print_ = fingerprint(config, client.config.model, seeds, batch, len(prior))
    state = load_state(state_path, print_, batch)
    if index is None:
        index = NoveltyIndex([s.instruction for s in seeds] + [m.instruction for m in prior])
    for machine in state.instructions:
        index.add(machine.instruction)
    previous = Counter(state.usage)
    state.stopped = None
    idle = 0
    for stats in reversed(state.rounds):
        if stats.kept:
            break
        idle += 1
    while len(state.instructions) < config.n:
        if state.rounds_done >= config.max_rounds:
            state.stopped = "max_rounds"
            break
        if idle >= config.patience:
            state.stopped = "no_progress"
            break
        try:
            stats = run_round(client, seeds, state, index, config, prior)
        except BudgetExhausted:
            state.stopped = "token_budget"
            break
        idle = 0 if stats.kept else idle + 1
        state.usage = _merged_usage(previous, client)
        state.save(state_path)
        if on_round is not None:
            on_round(stats)
    state.usage = _merged_usage(previous, client)
    state.save(state_path)
    return state


def _merged_usage(previous: Counter, client: LLMClient) -> dict[str, int]:
    now = client.usage.as_dict()
    now.pop("errors")
    return {key: int(previous.get(key, 0)) + value for key, value in now.items()}
