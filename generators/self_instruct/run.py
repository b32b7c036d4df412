"""One Self-Instruct run end to end: seeds -> bootstrap (resumable) -> run folder.

The state file lives beside the output folder (`<out>.state.json`) until a complete run's
folder has been written; the request cache is shared between runs
(`<cache_dir>/llm_cache.sqlite`), so a rerun of the same settings costs no request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from generators.self_instruct.bootstrap import BootstrapConfig, bootstrap
from generators.self_instruct.llm import LLMClient, LLMConfig
from generators.self_instruct.output import write_run
from generators.self_instruct.seeds import load_seeds


def state_path_for(out_dir: Path) -> Path:
    """Where a run into `out_dir` keeps its resume state."""
    out_dir = Path(out_dir)
    return out_dir.with_name(f"{out_dir.name}.state.json")


def bootstrap_run(
    llm: LLMConfig,
    config: BootstrapConfig,
    out_dir: Path,
    *,
    mirror: Path | None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Grow the pool for a run into `out_dir` (resuming its state file); return the state."""
    seeds = load_seeds(mirror, seed_file)
    client = LLMClient(llm, cache_path)  # None: no request cache (flows pass the default one)
    bar = tqdm(total=config.n, desc="instructions", unit="instr", disable=not show_progress)
    try:

        def advance(stats: dict[str, Any]) -> None:
            bar.update(stats["pool"] - bar.n)
            bar.set_postfix(round=stats["round"], kept=stats["kept"], items=stats["items"])

        state = bootstrap(client, seeds, config, state_path_for(out_dir), on_round=advance)
    finally:
        bar.close()
        client.close()
    state["seeds"] = len(seeds)
    return state


def finish_run(
    state: dict[str, Any], llm: LLMConfig, config: BootstrapConfig, out_dir: Path
) -> dict[str, Any]:
    """Write the run folder from a bootstrap state; drop the state file if the run completed."""
    settings = {
        "model": llm.model,
        "base_url": llm.base_url,
        "api": llm.api,
        "bootstrap": config.model_dump(mode="json"),
        "seeds": state.get("seeds"),
    }
    stats = write_run(
        state,
        out_dir,
        model=llm.model,
        sampling=config.generation.model_dump(mode="json"),
        settings=settings,
    )
    if state["stopped"] is None:
        state_path_for(out_dir).unlink(missing_ok=True)
    return stats


def run_self_instruct(
    llm: LLMConfig,
    config: BootstrapConfig,
    out_dir: Path,
    *,
    mirror: Path | None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Bootstrap `config.n` instructions with `llm` and write the run folder `out_dir`.

    Resumes from `<out_dir>.state.json` when a previous run with the same settings was
    interrupted or stopped early (token budget, no progress); removes it once a complete
    run's folder is written. Returns the run's stats (paper statistics, per-round stats,
    funnel, usage, stop reason).
    """
    state = bootstrap_run(
        llm,
        config,
        out_dir,
        mirror=mirror,
        seed_file=seed_file,
        cache_path=cache_path,
        show_progress=show_progress,
    )
    return finish_run(state, llm, config, out_dir)
