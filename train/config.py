"""Turn a recipe's `TrainSpec` into a `trl.SFTConfig` (TRL 1.16 argument names and defaults).

>>> from train.spec import TrainSpec
>>> config = to_sft_config(TrainSpec(max_steps=3), output_dir=Path("/tmp/x"), seed=0,
...     data_format="messages", cuda=False)
>>> config.bf16, config.use_cpu, config.assistant_only_loss, config.max_length
(False, True, True, 512)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train.spec import TrainSpec


def cuda_available() -> bool:
    """True when torch sees a CUDA device."""
    import torch

    return torch.cuda.is_available()


def resolve_bf16(spec: TrainSpec, cuda: bool) -> bool:
    """bf16 mixed precision: the spec's choice, or (for 'auto') on exactly when CUDA is there."""
    return cuda if spec.bf16 == "auto" else bool(spec.bf16)


def loss_flags(spec: TrainSpec, data_format: str) -> dict[str, bool | None]:
    """The SFTConfig loss switches for `spec.loss` on data in `data_format`.

    `assistant_only` masks everything but assistant turns (needs conversational data and a chat
    template with generation markers); `completion_only` masks the prompt of prompt-completion
    data (a messages mixture is turned into that form by `load_mixture`); `all` masks nothing.
    """
    if spec.loss == "assistant_only":
        # TRL would also mask prompt turns of prompt-completion data unless told not to.
        completion = False if data_format == "prompt_completion" else None
        return {"assistant_only_loss": True, "completion_only_loss": completion}
    if spec.loss == "completion_only":
        return {"assistant_only_loss": False, "completion_only_loss": True}
    completion = False if data_format == "prompt_completion" else None
    return {"assistant_only_loss": False, "completion_only_loss": completion}


def to_sft_config(
    spec: TrainSpec,
    *,
    output_dir: Path,
    seed: int,
    data_format: str,
    cuda: bool | None = None,
    show_progress: bool = True,
    **overrides: Any,
) -> Any:
    """Build the `trl.SFTConfig` for `spec`; `overrides` win over the derived arguments.

    On CPU: fp32 (`bf16=False`, `use_cpu=True`). Checkpoints are not saved mid-run
    (`save_strategy="no"`); the finished model is saved by `run.train_mixture`. Nothing is
    reported to external trackers (`report_to="none"`).
    """
    from trl import SFTConfig

    cuda = cuda_available() if cuda is None else cuda
    arguments: dict[str, Any] = {
        "output_dir": str(output_dir),
        "max_length": spec.max_length,
        "packing": spec.packing,
        "packing_strategy": "bfd",
        "learning_rate": spec.learning_rate,
        "lr_scheduler_type": spec.lr_scheduler,
        "warmup_steps": spec.warmup_ratio,
        "weight_decay": spec.weight_decay,
        "num_train_epochs": spec.epochs,
        "max_steps": spec.max_steps if spec.max_steps is not None else -1,
        "per_device_train_batch_size": spec.per_device_batch_size,
        "per_device_eval_batch_size": spec.per_device_batch_size,
        "gradient_accumulation_steps": spec.gradient_accumulation,
        "gradient_checkpointing": spec.gradient_checkpointing,
        "activation_checkpointing": spec.gradient_checkpointing,
        "bf16": resolve_bf16(spec, cuda),
        "use_cpu": not cuda,
        "seed": seed,
        "data_seed": seed,
        "logging_steps": spec.logging_steps,
        "logging_first_step": True,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": not show_progress,
        "dataloader_num_workers": 0,
        **loss_flags(spec, data_format),
    }
    arguments.update(overrides)
    return SFTConfig(**arguments)
