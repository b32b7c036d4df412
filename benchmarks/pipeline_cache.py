"""Benchmark: a build-flow rebuild with cached sources against a cold build of the same recipe.

Baseline: the cold run (empty cache: every source is generated). Measured: a second run with an
unchanged recipe and inputs (sources read back from the cache). Both runs write the same Parquet
bytes (checked).

    python -m benchmarks.pipeline_cache [--recipe demo]

Needs the mirror (INSTRUCTMIX_MIRROR). Uses PREFECT_API_URL when set, else the local server
under PREFECT_HOME (started before timing; `instructmix server stop` ends it). The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def _parquet(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def _timed(flow, recipe: str, out: Path, cache_dir: Path | None, **options) -> tuple[float, object]:
    started = time.perf_counter()
    cache = str(cache_dir) if cache_dir else None
    result = flow(recipe, output_dir=str(out), result_cache=cache, **options)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print ratios; return the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="demo", help="recipe name or YAML path")
    args = parser.parse_args(argv)

    from flows.build import build_flow
    from flows.server import prefect_api

    with prefect_api(), tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        root = Path(scratch)
        cold_s, cold = _timed(build_flow, args.recipe, root / "cold", root / "cache")
        warm_s, warm = _timed(build_flow, args.recipe, root / "warm", root / "cache")
        generated = sum(r.seconds for r in cold.build.funnel if r.stage.startswith("generate:"))
        identical = _parquet(cold.folder.path) == _parquet(warm.folder.path)
        result = {
            "bench": "pipeline_cache",
            "recipe": args.recipe,
            "rows": sum(t.num_rows for t in cold.build.splits.values()),
            "baseline": "cold run, empty cache",
            "cold_s": round(cold_s, 2),
            "cold_generate_s": round(generated, 2),
            "cached_s": round(warm_s, 2),
            "speedup": round(cold_s / warm_s, 2),
            "identical_parquet": identical,
        }
        print(f"cold (baseline): {cold_s:.1f}s, of which generating sources {generated:.1f}s")
        print(f"cached sources:  {warm_s:.1f}s  ->  {cold_s / warm_s:.2f}x faster")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
