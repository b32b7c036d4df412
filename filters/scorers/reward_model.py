"""A reward model: a `transformers` sequence-classification model scores (prompt, response).

The model (a local path or a Hub id) gets the pair as two segments, as reward models such as
OpenAssistant's DeBERTa rankers expect; the score is the logit of `label` (the only logit of a
one-label reward head). Runs on the CPU unless `device` says otherwise; torch is imported only
when this scorer runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    """Which reward model and how to batch it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["reward_model"] = "reward_model"
    model: str = Field(min_length=1, description="local path or Hugging Face Hub id")
    revision: str | None = Field(default=None, description="Hub revision (commit) to pin")
    label: int = Field(default=0, ge=0, description="which logit is the reward")
    batch_size: int = Field(default=16, ge=1, le=4096)
    max_length: int = Field(default=512, ge=8, le=32_768)
    device: str = Field(default="cpu", description="torch device, e.g. cpu or cuda")

    def settings(self) -> dict:
        """What the lock records about this scorer."""
        return self.model_dump(mode="json", exclude={"batch_size", "device"})


def score(
    prompts: list[str], responses: list[str], config: Config
) -> tuple[list[float | None], list[str | None], dict[str, Any]]:
    """Per pair: the reward model's logit of `config.label` (every pair gets a score)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(config.model, revision=config.revision)
    model = AutoModelForSequenceClassification.from_pretrained(
        config.model, revision=config.revision
    )
    model.to(config.device).eval()
    if config.label >= model.config.num_labels:
        raise ValueError(
            f"reward model {config.model} has {model.config.num_labels} labels; "
            f"label {config.label} does not exist"
        )
    values: list[float | None] = []
    with torch.no_grad():
        for start in range(0, len(prompts), config.batch_size):
            batch = tokenizer(
                prompts[start : start + config.batch_size],
                responses[start : start + config.batch_size],
                truncation=True,
                max_length=config.max_length,
                padding=True,
                return_tensors="pt",
            ).to(config.device)
            logits = model(**batch).logits[:, config.label]
            values.extend(float(v) for v in logits.float().cpu().tolist())
    extras = {"num_labels": int(model.config.num_labels), "architecture": model.config.model_type}
    return values, [None] * len(values), extras
