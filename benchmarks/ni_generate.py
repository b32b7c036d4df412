"""Throughput of the natural_instructions generator on the mirror, against two baselines.

Baselines, in the same run on the same files: `json_load` (decode every task file: the I/O
floor) and `naive_render` (decode + f-string the def+pos2 prompt per instance, with no
validation, no ids, no Arrow table). Ours: `parse` (validate every file into TaskFile) and
`generate` (the whole stage: parse, render, ids, table, report).

    python -m benchmarks.ni_generate [--mirror PATH] [--repeat 3]

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks import default_mirror
from generators.natural_instructions import Config, generate
from generators.natural_instructions.selection import available_tasks
from generators.natural_instructions.task_file import parse_task_file
from instances.context import StageContext


def _best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def _json_load(paths: list[Path]) -> int:
    return sum(len(json.loads(p.read_text(encoding="utf-8"))["Instances"]) for p in paths)


def _naive_render(paths: list[Path]) -> int:
    rendered = 0
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        head = "Definition: " + data["Definition"][0]
        for number, example in enumerate(data["Positive Examples"][:2], 1):
            head += f"\n\nPositive example {number}:\nInput: {example['input']}"
            head += f"\nOutput: {example['output']}"
        for instance in data["Instances"]:
            text = f"{head}\n\nInput: {instance['input']}\nOutput:"
            rendered += bool(text) and bool(instance["output"])
    return rendered


def main() -> None:
    """Run the benchmark and print a table, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=default_mirror())
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    mirror = Path(args.mirror)
    paths = list(available_tasks(mirror).values())
    rows = _json_load(paths)
    ctx = StageContext(mirror=mirror)
    config = Config(split="all", max_per_task=None, encoding="def+pos2")
    figures = {
        "json_load_s": _best(lambda: _json_load(paths), args.repeat),
        "naive_render_s": _best(lambda: _naive_render(paths), args.repeat),
        "parse_s": _best(lambda: [parse_task_file(p) for p in paths], args.repeat),
        "generate_s": _best(lambda: generate(config, ctx), args.repeat),
    }
    for name, seconds in figures.items():
        print(f"{name:16} {seconds:8.3f} s  {rows / seconds:12,.0f} instances/s")
    result = {
        "bench": "ni_generate",
        "files": len(paths),
        "instances": rows,
        **{k: round(v, 4) for k, v in figures.items()},
        "parse_vs_json_load": round(figures["parse_s"] / figures["json_load_s"], 2),
        "generate_vs_naive_render": round(figures["generate_s"] / figures["naive_render_s"], 2),
        "generate_rows_per_s": round(rows / figures["generate_s"]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
