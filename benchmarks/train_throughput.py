"""SFT training throughput: tokens/s and MFU with TRL's bfd packing against no packing (baseline).

Runs the project's own `to_sft_config` + `trl.SFTTrainer` twice on the same rows and the same
randomly initialised model: once unpacked (rows padded to the longest in each batch: the
baseline) and once with `packing: true` (best-fit decreasing, padding-free). Rows are random token
ids whose lengths are drawn from a seeded log-normal (median ~180 tokens, like instruction data),
or measured on a built mixture with `--lengths-from artifacts/mixtures/NAME`.

    python -m benchmarks.train_throughput --device cuda     # ~0.5B Llama, bf16, GPU
    python -m benchmarks.train_throughput --tiny            # tiny Llama on the CPU, seconds

tokens/s counts real (non-padding) tokens. MFU = model FLOPs per second / peak bf16 FLOPs, with
model FLOPs per token = 6 * (parameters without the input embedding) + 6 * layers * hidden * mean
row length (causal attention); MFU is null on CPU or an unknown GPU (pass --peak-tflops).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

# Dense bf16 peak of common GPUs (TFLOP/s), matched against torch.cuda.get_device_name().
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0}

HALF_B = {  # ~0.5B parameters: 22 layers of width 1280, untied 32k vocabulary
    "vocab_size": 32000,
    "hidden_size": 1280,
    "intermediate_size": 3456,
    "num_hidden_layers": 22,
    "num_attention_heads": 20,
    "num_key_value_heads": 20,
    "tie_word_embeddings": False,
}
TINY = {
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "tie_word_embeddings": True,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults for the ~0.5B GPU run; --tiny shrinks everything)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--tiny", action="store_true", help="tiny model, few steps (CPU check)")
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="measured steps per case")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured steps per case")
    parser.add_argument("--lengths-from", type=Path, default=None, help="a built mixture folder")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    small = args.tiny
    args.max_length = args.max_length or (128 if small else 2048)
    args.batch_size = args.batch_size or (4 if small else 8)
    args.steps = args.steps or (4 if small else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if small else 3)
    return args


def synthetic_lengths(count: int, seed: int, median: float, ceiling: int) -> list[int]:
    """Log-normal row lengths (sigma 0.9), clipped to [8, ceiling]."""
    rng = random.Random(seed)
    return [
        max(8, min(ceiling, int(rng.lognormvariate(math.log(median), 0.9)))) for _ in range(count)
    ]


def mixture_lengths(folder: Path, vocab_size: int) -> list[int]:
    """Token lengths of a built mixture's train rows, tokenized as the tiny model would."""
    from train.data import load_mixture
    from train.preflight import row_tokens
    from train.tiny import mixture_texts, train_tokenizer

    data = load_mixture(folder, "all")
    tokenizer = train_tokenizer(mixture_texts(data.train), vocab_size=min(vocab_size, 32000))
    return [row_tokens(row, tokenizer, "all")[0] for row in data.train]


def peak_flops(device: str, override: float | None) -> float | None:
    """Peak dense bf16 FLOP/s of the device, or None when unknown."""
    if override:
        return override * 1e12
    if device != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name()
    return next((tflops * 1e12 for key, tflops in PEAK_TFLOPS.items() if key in name), None)


def _timing_callback():
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        """Wall-clock time at the end of every optimizer step (after a device sync)."""

        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            import torch

            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.times.append(time.perf_counter())

    return StepClock()


def run_case(
    packing: bool, lengths: list[int], shape: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """Train `args.warmup + args.steps` steps; return real tokens/s over the measured steps."""
    import torch
    from datasets import Dataset
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTTrainer

    from train.config import to_sft_config
    from train.spec import TrainSpec
    from train.tiny import train_tokenizer

    rng = random.Random(args.seed)
    rows = [[rng.randrange(3, shape["vocab_size"]) for _ in range(n)] for n in lengths]
    dataset = Dataset.from_dict({"input_ids": rows})
    tokenizer = train_tokenizer(["padding only"] * 4, vocab_size=300)
    torch.manual_seed(args.seed)
    config = LlamaConfig(**shape, max_position_embeddings=args.max_length, pad_token_id=1)
    model = LlamaForCausalLM(config)
    spec = TrainSpec(
        max_length=args.max_length,
        packing=packing,
        loss="all",
        learning_rate=1e-4,
        max_steps=args.warmup + args.steps,
        per_device_batch_size=args.batch_size,
    )
    clock = _timing_callback()
    with tempfile.TemporaryDirectory(prefix="train-throughput-") as out:
        sft = to_sft_config(
            spec,
            output_dir=Path(out),
            seed=args.seed,
            data_format="messages",
            cuda=args.device == "cuda",
            show_progress=False,
            dataloader_drop_last=True,
        )
        trainer = SFTTrainer(
            model=model, args=sft, train_dataset=dataset, processing_class=tokenizer
        )
        trainer.add_callback(clock)
        if args.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trainer.train()
    tokens = [entry["num_tokens"] for entry in trainer.state.log_history if "num_tokens" in entry]
    start = args.warmup - 1 if args.warmup else None
    measured_tokens = tokens[-1] - (tokens[start] if start is not None else 0)
    seconds = clock.times[-1] - (clock.times[start] if start is not None else clock.times[0])
    result = {
        "packing": packing,
        "tokens_per_s": measured_tokens / seconds,
        "seconds": seconds,
        "tokens": measured_tokens,
        "params": sum(p.numel() for p in model.parameters()),
        "flop_params": sum(p.numel() for p in model.parameters())
        - model.get_input_embeddings().weight.numel() * (not shape["tie_word_embeddings"]),
        "peak_memory_gb": torch.cuda.max_memory_allocated() / 2**30
        if args.device == "cuda"
        else None,
    }
    del trainer, model
    gc.collect()
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both cases, print them, their ratio and a final JSON line; return the figures."""
    import torch

    from train.packing import packing_estimate

    args = parse_args(argv)
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    shape = TINY if args.tiny else HALF_B
    needed = (args.warmup + args.steps) * args.batch_size
    if args.lengths_from is not None:
        lengths = mixture_lengths(args.lengths_from, shape["vocab_size"])
    else:
        median = 40 if args.tiny else 180
        lengths = synthetic_lengths(needed * 12, args.seed, median, 4 * args.max_length)
    estimate = packing_estimate(lengths, args.max_length, args.batch_size, args.seed)
    print(
        f"device {args.device}; {len(lengths)} rows, mean length {sum(lengths) / len(lengths):.0f};"
        f" max_length {args.max_length}; batch {args.batch_size}; "
        f"{args.warmup} warm-up + {args.steps} measured steps per case"
    )
    cases = {}
    for packing in (False, True):
        cases[packing] = run_case(packing, lengths, shape, args)
        print(
            f"{'bfd packing' if packing else 'no packing (baseline)'}: "
            f"{cases[packing]['tokens_per_s']:,.0f} tokens/s"
        )
    base, packed = cases[False], cases[True]
    mean_length = sum(min(n, args.max_length) for n in lengths) / len(lengths)
    flops_per_token = (
        6 * base["flop_params"]
        + 6 * shape["num_hidden_layers"] * shape["hidden_size"] * mean_length
    )
    peak = peak_flops(args.device, args.peak_tflops)

    def mfu(case: dict[str, Any]) -> float | None:
        return round(case["tokens_per_s"] * flops_per_token / peak, 4) if peak else None

    ratio = packed["tokens_per_s"] / base["tokens_per_s"]
    print(f"packing / baseline: x{ratio:.2f} tokens/s; MFU {mfu(base)} -> {mfu(packed)}")
    figures = {
        "bench": "train_throughput",
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "params_m": round(base["params"] / 1e6, 1),
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "baseline": "no_packing",
        "baseline_tokens_per_s": round(base["tokens_per_s"], 1),
        "packed_tokens_per_s": round(packed["tokens_per_s"], 1),
        "ratio": round(ratio, 3),
        "baseline_mfu": mfu(base),
        "packed_mfu": mfu(packed),
        "padding_efficiency_unpacked": round(estimate.padded_efficiency, 3),
        "expected_ratio_from_preflight": round(estimate.expected_speedup, 3),
        "peak_memory_gb": [
            round(c["peak_memory_gb"], 2) if c["peak_memory_gb"] else None for c in (base, packed)
        ],
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
