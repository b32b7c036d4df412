"""Classifying new instructions and generating their instances, in one of three layouts.

- `completion` (the paper's): one few-shot prompt per task, several examples in its reply,
  input-first (`Example N`, `Input:`, `Output:`) or output-first (`Class label:`) for
  classification tasks;
- `chat`: a few-shot conversation per example, one example per reply, `max_instances` sampled
  replies per task (the few-shot order differs per reply, so each is its own request);
- `answer`: like `chat` for classification tasks; for the others a few-shot conversation writes
  only an input, then the task and that input go to the model as an ordinary chat message and
  its reply is the output (what an instruction-tuned chat model does best).

Every generated pair gets its drop reason (`filters.instance_reasons`; `no_example` and
`truncated_response` for a reply without an example or cut off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generators.self_instruct import filters, parse, prompts
from generators.self_instruct.generate import user_turn
from generators.self_instruct.llm import Completion, LLMClient
from generators.self_instruct.state import InstanceRecord, MachineInstruction

if TYPE_CHECKING:
    from generators.self_instruct.config import BootstrapConfig


def _completion_instances(
    client: LLMClient, added: list[MachineInstruction], config: BootstrapConfig
) -> None:
    """The paper's layout: one prompt per task, several examples in its reply."""
    sampling = config.instances.model_copy(
        update={"stop": (f"Example {config.max_instances + 1}", *config.instances.stop)}
    )
    asks = [
        prompts.output_first_prompt(m.instruction)
        if m.is_classification
        else prompts.input_first_prompt(m.instruction)
        for m in added
    ]
    for machine, reply in zip(added, client.complete_many(asks, sampling), strict=True):
        truncated = reply.finish_reason == "length"
        if machine.is_classification:
            pairs = parse.parse_output_first(reply.text, truncated)
        else:
            pairs = parse.parse_input_first(reply.text)
            pairs = pairs[:-1] if truncated and len(pairs) > 1 else pairs
        pairs = pairs[: config.max_instances * 2]
        reasons = filters.instance_reasons(pairs, config.max_instance_chars)
        machine.instances = [
            InstanceRecord(input=given, output=answer, reason=reason)
            for (given, answer), reason in zip(pairs, reasons, strict=True)
        ]
        machine.instance_reply_truncated = truncated


def _chat_instances(
    client: LLMClient, added: list[MachineInstruction], config: BootstrapConfig
) -> None:
    """The chat layout: `max_instances` one-example conversations per task (shots rotated)."""
    variants = range(config.max_instances)
    asks = [
        prompts.output_first_messages(m.instruction, v)
        if m.is_classification
        else prompts.input_first_messages(m.instruction, v)
        for m in added
        for v in variants
    ]
    replies = client.complete_many(asks, config.chat_instances)
    for number, machine in enumerate(added):
        mine = replies[number * len(variants) : (number + 1) * len(variants)]
        pairs: list[tuple[str, str]] = []
        dropped: list[InstanceRecord] = []
        for reply in mine:
            found = (
                parse.parse_output_first(reply.text)
                if machine.is_classification
                else parse.parse_input_first(reply.text)
            )
            if not found:
                dropped.append(
                    InstanceRecord(input="", output=reply.text, reason=filters.NO_EXAMPLE)
                )
            elif reply.finish_reason == "length":
                given, answer = found[0]
                dropped.append(
                    InstanceRecord(input=given, output=answer, reason=filters.TRUNCATED_RESPONSE)
                )
            else:
                pairs.append(found[0])
        machine.instances = _records(pairs, dropped, config)
        machine.instance_reply_truncated = any(r.finish_reason == "length" for r in mine)


def fill_instances(
    client: LLMClient, added: list[MachineInstruction], config: BootstrapConfig
) -> None:
    """Classify each new instruction, then generate and filter its instances (in place)."""
    if not added:
        return
    if config.layout != "completion":
        asks: list = [prompts.classification_messages(m.instruction) for m in added]
        sampling = config.classification.model_copy(update={"stop": ("\n",)})
    else:
        asks = [prompts.classification_prompt(m.instruction) for m in added]
        sampling = config.classification
    for machine, reply in zip(added, client.complete_many(asks, sampling), strict=True):
        machine.is_classification = parse.parse_is_classification(reply.text)
    if config.layout == "completion":
        _completion_instances(client, added, config)
    elif config.layout == "chat":
        _chat_instances(client, added, config)
    else:
        _chat_instances(client, [m for m in added if m.is_classification], config)
        _answer_instances(client, [m for m in added if not m.is_classification], config)


def _records(
    pairs: list[tuple[str, str]], dropped: list[InstanceRecord], config: BootstrapConfig
) -> list[InstanceRecord]:
    reasons = filters.instance_reasons(pairs, config.max_instance_chars)
    kept = [
        InstanceRecord(input=given, output=answer, reason=reason)
        for (given, answer), reason in zip(pairs, reasons, strict=True)
    ]
    return kept + dropped


def _answer_instances(
    client: LLMClient, added: list[MachineInstruction], config: BootstrapConfig
) -> None:
    """The answer layout: `max_instances` inputs per task, then the model's answer to each."""
    if not added:
        return
    variants = range(config.max_instances)
    asks = [prompts.input_messages(m.instruction, v) for m in added for v in variants]
    inputs = client.complete_many(asks, config.chat_inputs)
    given = [parse.parse_input(reply.text) for reply in inputs]
    questions: list = [  # as chat messages: the chat route, also where completions exist
        [{"role": "user", "content": user_turn(added[number // len(variants)].instruction, text)}]
        for number, text in enumerate(given)
    ]
    answers: list[Completion] = client.complete_many(questions, config.chat_instances)
    for number, machine in enumerate(added):
        span = slice(number * len(variants), (number + 1) * len(variants))
        pairs: list[tuple[str, str]] = []
        dropped: list[InstanceRecord] = []
        for text, asked, reply in zip(given[span], inputs[span], answers[span], strict=True):
            output = reply.text.strip()
            if asked.finish_reason == "length" or reply.finish_reason == "length":
                reason = filters.TRUNCATED_RESPONSE
                dropped.append(InstanceRecord(input=text, output=output, reason=reason))
            else:
                pairs.append((text, output))
        machine.instances = _records(pairs, dropped, config)
        machine.instance_reply_truncated = any(
            r.finish_reason == "length" for r in [*inputs[span], *answers[span]]
        )
