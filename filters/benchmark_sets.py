"""The benchmark test sets decontamination checks against: where each lives in the mirror and
on the Hub, and which of its fields hold the text a training set must not contain.

| name | test data | text fields |
| --- | --- | --- |
| gsm8k | GSM8K test (1,319) | question, answer |
| mmlu | MMLU test, 57 subjects (14,042) | question |
| humaneval | HumanEval (164) | prompt, canonical_solution |
| truthfulqa | TruthfulQA (817) | question, best answer |
| alpaca_eval | AlpacaEval (805) | instruction |
| mt_bench | MT-Bench (80 questions, 2 turns) | prompt (the turns) |
| bbh | BIG-Bench Hard, 27 tasks (6,511) | input |
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from instances.sources import PublicSource, load_rows

BenchmarkName = Literal[
    "gsm8k", "mmlu", "humaneval", "truthfulqa", "alpaca_eval", "mt_bench", "bbh"
]
BENCHMARK_NAMES: tuple[str, ...] = BenchmarkName.__args__

MMLU_SUBJECTS = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
]

# BIG-Bench Hard: mirror file number (SuperNI task id) and Hub config name of each task.
BBH_TASKS = {
    1732: "boolean_expressions",
    1733: "causal_judgement",
    1734: "date_understanding",
    1735: "disambiguation_qa",
    1736: "dyck_languages",
    1737: "formal_fallacies",
    1738: "geometric_shapes",
    1739: "hyperbaton",
    1740: "logical_deduction_five_objects",
    1741: "logical_deduction_seven_objects",
    1742: "logical_deduction_three_objects",
    1743: "movie_recommendation",
    1744: "multistep_arithmetic_two",
    1745: "navigate",
    1746: "object_counting",
    1747: "penguins_in_a_table",
    1748: "reasoning_about_colored_objects",
    1749: "ruin_names",
    1750: "salient_translation_error_detection",
    1752: "sports_understanding",
    1753: "temporal_sequences",
    1754: "tracking_shuffled_objects_five_objects",
    1755: "tracking_shuffled_objects_seven_objects",
    1756: "tracking_shuffled_objects_three_objects",
    1757: "web_of_lies",
    1758: "word_sorting",
    1762: "snarks",
}


class Benchmark(BaseModel):
    """One benchmark: its test files (one source per file or Hub config) and its text fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sources: tuple[PublicSource, ...]
    fields: tuple[str, ...]


def _mmlu() -> Benchmark:
    sources = tuple(
        PublicSource(
            name=f"mmlu/{subject}",
            hub_id="cais/mmlu",
            hub_config=subject,
            hub_split="test",
            mirror_path=f"mmlu/test/{subject}_test.csv",
            format="csv",
            license="MIT",
        )
        for subject in MMLU_SUBJECTS
    )
    return Benchmark(name="mmlu", sources=sources, fields=("question",))


def _bbh() -> Benchmark:
    sources = tuple(
        PublicSource(
            name=f"bbh/{task}",
            hub_id="lukaemon/bbh",
            hub_config=task,
            hub_split="test",
            mirror_path=f"mmlu_bbh_superni_format/bbh/task{number}_bbh_{task}.json",
            format="json",
            license="MIT",
        )
        for number, task in BBH_TASKS.items()
    )
    return Benchmark(name="bbh", sources=sources, fields=("input",))


CATALOG: dict[str, Benchmark] = {
    "gsm8k": Benchmark(
        name="gsm8k",
        sources=(
            PublicSource(
                name="gsm8k",
                hub_id="openai/gsm8k",
                hub_config="main",
                hub_split="test",
                mirror_path="gsm8k/test.jsonl",
                format="jsonl",
                license="MIT",
            ),
        ),
        fields=("question", "answer"),
    ),
    "mmlu": _mmlu(),
    "humaneval": Benchmark(
        name="humaneval",
        sources=(
            PublicSource(
                name="humaneval",
                hub_id="openai/openai_humaneval",
                hub_split="test",
                mirror_path="humaneval/HumanEval.jsonl",
                format="jsonl",
                license="MIT",
            ),
        ),
        fields=("prompt", "canonical_solution"),
    ),
    "truthfulqa": Benchmark(
        name="truthfulqa",
        sources=(
            PublicSource(
                name="truthfulqa",
                hub_id="truthfulqa/truthful_qa",
                hub_config="generation",
                hub_split="validation",
                mirror_path="truthfulqa/TruthfulQA.csv",
                format="csv",
                license="Apache-2.0",
                columns={"Question": "question", "Best Answer": "best_answer"},
            ),
        ),
        fields=("question", "best_answer"),
    ),
    "alpaca_eval": Benchmark(
        name="alpaca_eval",
        sources=(
            PublicSource(
                name="alpaca_eval",
                hub_id="tatsu-lab/alpaca_eval",
                hub_config="alpaca_eval",
                hub_split="eval",
                mirror_path="alpaca_eval/alpaca_eval_text_davinci_003_outputs.json",
                format="json",
                license="Apache-2.0",
            ),
        ),
        fields=("instruction",),
    ),
    "mt_bench": Benchmark(
        name="mt_bench",
        sources=(
            PublicSource(
                name="mt_bench",
                hub_id="HuggingFaceH4/mt_bench_prompts",
                hub_split="train",
                mirror_path="mt_bench/question.jsonl",
                format="jsonl",
                license="Apache-2.0",
                columns={"turns": "prompt"},
            ),
        ),
        fields=("prompt",),
    ),
    "bbh": _bbh(),
}


def _field_texts(row: dict, fields: tuple[str, ...]) -> list[str]:
    texts = []
    for field in fields:
        value = row.get(field)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(v for v in value if isinstance(v, str))
    return texts


def benchmark_texts(benchmark: Benchmark, mirror: Path | None) -> list[str]:
    """Every text of `benchmark`'s test items (one string per item field), mirror or Hub.

    SuperNI-format files (BBH in the mirror) hold their items under `Instances`.
    """
    texts: list[str] = []
    for source in benchmark.sources:
        for row in load_rows(source, mirror):
            if isinstance(row.get("Instances"), list):
                for item in row["Instances"]:
                    texts.extend(_field_texts(item, benchmark.fields))
            else:
                texts.extend(_field_texts(row, benchmark.fields))
    return [text for text in texts if text.strip()]


def benchmark_files(names: list[str], mirror: Path | None) -> list[Path]:
    """The mirror files the named benchmarks read (empty when reading from the Hub)."""
    if mirror is None:
        return []
    return [source.mirror_file(mirror) for name in names for source in CATALOG[name].sources]
