"""The settings of one Self-Instruct bootstrap run (shared by the loop and the example requests)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from generators.self_instruct.endpoint import Api
from generators.self_instruct.llm import LLMConfig, Sampling
from generators.self_instruct.prompts import Layout

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
    layout: Layout = Field(
        "completion",
        description="classification/instance requests: one few-shot prompt (the paper's), a "
        "few-shot conversation with one example per reply (chat), or a conversation that "
        "writes an input and the model's own answer to the task on it (answer)",
    )
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
    chat_instances: Sampling = Field(
        Sampling(temperature=0.7, top_p=0.9, max_tokens=128, stop=("Task:",)),
        description="sampling of one chat-layout example (or answer, in the answer layout)",
    )
    chat_inputs: Sampling = Field(
        Sampling(temperature=0.7, top_p=0.9, max_tokens=64, stop=("Task:", "Output:")),
        description="sampling of one input in the answer layout",
    )


def run_config(
    n: int,
    seed: int,
    batch_size: int,
    max_tokens: int | None,
    layout: Literal["auto", Layout],
    embedded: bool,
) -> BootstrapConfig:
    """The bootstrap settings of a command-line run: `layout` auto is chat for the embedded
    model, completion otherwise; the embedded model also gets shorter replies."""
    chosen = ("chat" if embedded else "completion") if layout == "auto" else layout
    config = BootstrapConfig(n=n, seed=seed, request_batch_size=batch_size, layout=chosen)
    tokens = max_tokens or (256 if embedded else 1024)
    return config.model_copy(
        update={"generation": config.generation.model_copy(update={"max_tokens": tokens})}
    )


def endpoint_config(
    base_url: str,
    model: str,
    *,
    api_key: str,
    api: Api,
    concurrency: int | None,
    timeout: float | None,
    token_budget: int | None,
    embedded: bool,
) -> LLMConfig:
    """How a command-line run calls its endpoint: the embedded server answers one request at a
    time, slowly, so it gets one request in flight (else 4) and 600 s per request (else 120)."""
    return LLMConfig(
        base_url=base_url,
        model=model,
        api_key=api_key,
        api=api,
        concurrency=concurrency or (1 if embedded else 4),
        timeout_seconds=timeout or (600.0 if embedded else 120.0),
        token_budget=token_budget,
    )
