"""The settings of one Self-Instruct bootstrap run (shared by the loop and the example requests)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from generators.self_instruct.llm import Sampling

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
    layout: Literal["completion", "chat", "answer"] = Field(
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
