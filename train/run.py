"""Run TRL SFT on a built mixture and save model, tokenizer, metrics and a model card.

The run loads the mixture, resolves the base model's tokenizer, runs the pre-flight check and
refuses to start on a blocking issue (`TrainError`, message = the pre-flight report). Then it
trains with `trl.SFTTrainer` and writes into a temporary folder that is renamed into place only
when everything is saved, so an interrupted run leaves no half-written model:

    OUTPUT/  model weights (or LoRA adapter), tokenizer, metrics.json, preflight.json,
             train_spec.json, README.md (model card naming the mixture and its manifest hash)

    >>> result = train_mixture(Path("artifacts/mixtures/demo"), spec, name="demo",
    ...     output_dir=Path("artifacts/models/demo"), cache_dir=Path(".cache"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from instances import InstructmixError, atomic_directory
from instances.io import write_text_atomic
from mixtures.folder import MixtureFolder
from train.card import model_card
from train.config import cuda_available, resolve_bf16, to_sft_config
from train.data import TrainData, load_mixture
from train.model import load_model, load_tokenizer, model_source, peft_config
from train.preflight import PreflightReport, preflight
from train.spec import TrainSpec


class TrainError(InstructmixError):
    """Training cannot start (a blocking pre-flight issue) or failed."""


class TrainResult(BaseModel):
    """What a finished run produced and how the loss moved."""

    output_dir: Path
    steps: int
    seconds: float
    first_loss: float
    last_loss: float
    eval_loss: float | None
    sample: str

    def summary(self) -> str:
        """One line: steps, seconds, how the loss moved (and the validation loss, if any)."""
        validation = f", validation loss {self.eval_loss:.3f}" if self.eval_loss is not None else ""
        return (
            f"{self.steps} steps in {self.seconds:.1f} s, loss {self.first_loss:.3f} -> "
            f"{self.last_loss:.3f}{validation}"
        )


def read_manifest(mixture_dir: Path) -> dict[str, Any]:
    """The mixture's manifest.json as a dict ({} when the folder has none)."""
    path = MixtureFolder(Path(mixture_dir)).manifest_path
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TrainError(f"{path}: not valid JSON: {error}") from error


@dataclass(frozen=True)
class Prepared:
    """A mixture loaded for training, the tokenizer, the base model's source and the pre-flight."""

    mixture_dir: Path
    data: TrainData
    tokenizer: Any
    source: str
    report: PreflightReport


def prepare(
    mixture_dir: Path, spec: TrainSpec, cache_dir: Path, *, show_progress: bool = False
) -> Prepared:
    """Load the data and tokenizer and run the pre-flight check (no model weights loaded)."""
    data = load_mixture(mixture_dir, spec.loss)
    source = model_source(spec, cache_dir)
    tokenizer = load_tokenizer(spec, data, source)
    report = preflight(data, tokenizer, spec, show_progress=show_progress)
    return Prepared(Path(mixture_dir), data, tokenizer, source, report)


def loss_history(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """The (step, loss) points of a trainer's log history."""
    return [
        {"step": entry["step"], "loss": entry["loss"]} for entry in log_history if "loss" in entry
    ]


def generate_sample(model: Any, tokenizer: Any, data: TrainData, max_new_tokens: int = 32) -> str:
    """Greedy completion of the first training prompt (shows the model loads and generates)."""
    import torch

    row = data.train[0]
    if data.format == "messages":
        turns = row["messages"]
        last = max(i for i, turn in enumerate(turns) if turn["role"] == "assistant")
        prompt = turns[:last]
    else:
        prompt = row["prompt"]
    if isinstance(prompt, list):
        inputs = tokenizer.apply_chat_template(
            prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
    else:
        inputs = tokenizer(prompt, return_tensors="pt")
    inputs = {key: value.to(model.device) for key, value in inputs.items()}
    model.eval()
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    return tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def train_mixture(
    mixture_dir: Path,
    spec: TrainSpec,
    *,
    name: str,
    output_dir: Path,
    cache_dir: Path,
    seed: int = 0,
    show_progress: bool = True,
    prepared: Prepared | None = None,
) -> TrainResult:
    """Pre-flight, then SFT on the mixture in `mixture_dir`; save everything to `output_dir`.

    `prepared` (from `prepare` on the same folder and spec) skips loading and checking again.
    """
    from trl import SFTTrainer

    started = time.perf_counter()
    if prepared is None or prepared.mixture_dir != Path(mixture_dir):
        prepared = prepare(mixture_dir, spec, cache_dir, show_progress=show_progress)
    data, tokenizer, source, report = (
        prepared.data,
        prepared.tokenizer,
        prepared.source,
        prepared.report,
    )
    if report.blocking:
        raise TrainError(f"{mixture_dir}: pre-flight check blocks training:\n{report.render()}")
    seed = spec.seed if spec.seed is not None else seed
    cuda = cuda_available()
    model = load_model(spec, tokenizer, source, seed=seed, bf16=resolve_bf16(spec, cuda))
    manifest = read_manifest(mixture_dir)
    with atomic_directory(output_dir) as tmp:
        config = to_sft_config(
            spec,
            output_dir=tmp,
            seed=seed,
            data_format=data.format,
            cuda=cuda,
            show_progress=show_progress,
        )
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=data.train,
            eval_dataset=data.validation,
            processing_class=tokenizer,
            peft_config=peft_config(spec.lora),
        )
        output = trainer.train()
        eval_loss = trainer.evaluate()["eval_loss"] if data.validation is not None else None
        history = loss_history(trainer.state.log_history)
        if not history:
            raise TrainError(f"{mixture_dir}: training logged no loss (no optimizer step ran)")
        sample = generate_sample(trainer.model, tokenizer, data)
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        metrics = {
            "mixture": name,
            "recipe_hash": manifest.get("recipe_hash"),
            "train_loss": history,
            "eval_loss": eval_loss,
            "train_metrics": output.metrics,
            "sample": sample,
            "log_history": trainer.state.log_history,
        }
        write_text_atomic(json.dumps(metrics, indent=2, default=str) + "\n", tmp / "metrics.json")
        write_text_atomic(report.model_dump_json(indent=2) + "\n", tmp / "preflight.json")
        write_text_atomic(spec.model_dump_json(indent=2) + "\n", tmp / "train_spec.json")
        card = model_card(
            name=name,
            spec=spec,
            manifest=manifest,
            report=report,
            history=history,
            eval_loss=eval_loss,
            sample=sample,
        )
        write_text_atomic(card, tmp / "README.md")
    return TrainResult(
        output_dir=output_dir,
        steps=trainer.state.global_step,
        seconds=time.perf_counter() - started,
        first_loss=history[0]["loss"],
        last_loss=history[-1]["loss"],
        eval_loss=eval_loss,
        sample=sample,
    )
