"""The catalog of public NLP tasks that templates turn into instructions.

Each task declares its public source (Hub id and mirror path), how a mirror file's rows map
onto the Hub schema the templates expect (renamed columns, label names to label ids, a
reshape for nested formats), its category (T0's task clusters) and its template sets.
Mirror rows are brought to the Hub schema here, so the same templates render both.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from generators.templated.rows import RESHAPE_LABEL_TEXT, Reshape, reshape, typed
from instances.errors import SourceError
from instances.sources import PublicSource, load_rows

# T0's task clusters (Sanh et al. 2021, fig. 2) plus FLAN's chain-of-thought collection.
Category = Literal[
    "sentiment",
    "topic_classification",
    "paraphrase",
    "nli",
    "coreference",
    "extractive_qa",
    "multiple_choice_qa",
    "closed_book_qa",
    "summarization",
    "sentence_completion",
    "word_sense",
    "structure_to_text",
    "cot_reasoning",
]
T0_HELD_OUT: tuple[str, ...] = ("nli", "coreference", "sentence_completion", "word_sense")


class TaskSpec(BaseModel):
    """One task: its raw rows, how they map to the Hub schema, its cluster and template sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    source: PublicSource
    category: Category
    template_sets: tuple[str, ...] = Field(min_length=1)
    reshape: Reshape = Field(default="none", description="how a mirror file's rows are nested")
    label_names: tuple[str, ...] | None = Field(
        default=None, description="label strings in the file, in the order of the Hub's ids"
    )
    int_columns: tuple[str, ...] = Field(default=(), description="columns read as integers")
    aliases: dict[str, str] = Field(
        default_factory=dict, description="extra column -> existing column (for template sets)"
    )
    csv_quoted: bool = Field(
        default=False, description="the TSV quotes fields that hold quotes, CSV-style"
    )
    rationale_column: str | None = Field(default=None, description="CoT rationale, if any")
    hub_loadable: bool = Field(default=True, description="False: the rows exist only in a mirror")
    note: str = ""


def _textfooler(
    name: str, hub_id: str, split: str, license_: str, file_format: str = "text", **kw: Any
) -> PublicSource:
    return PublicSource(
        name=name,
        hub_id=hub_id,
        hub_split=split,
        mirror_path=f"nlp_raw/textfooler_1k/{name}.txt",
        format=file_format,
        license=license_,
        **kw,
    )


_NLI_LABELS = ("entailment", "neutral", "contradiction")
_TEXTFOOLER_NOTE = "TextFooler 1k sample: lower-cased and tokenized text"


def _cot(name: str) -> TaskSpec:
    math = name in ("gsm8k", "aqua")
    return TaskSpec(
        name=f"cot_{name}",
        source=PublicSource(
            name=f"flan_cot_{name}",
            hub_id="google-research/FLAN",
            mirror_path=f"flan_cot/{name}_train.tsv",
            format="tsv",
            license="apache-2.0",
            fieldnames=("question", "answer", "rationale"),
        ),
        category="cot_reasoning",
        template_sets=("project/cot_math" if math else "project/cot_qa",),
        reshape="flan_cot",
        rationale_column="rationale",
        hub_loadable=False,
        note="FLAN 2022 CoT data (question, answer, rationale); mirror only",
    )


TASKS: dict[str, TaskSpec] = {
    task.name: task
    for task in [
        TaskSpec(
            name="sst2",
            source=PublicSource(
                name="sst2",
                hub_id="nyu-mll/glue",
                hub_config="sst2",
                mirror_path="nlp_raw/sst2/train.tsv",
                format="tsv",
                license="unknown",
                # The mirror's TSV is `label<TAB>content` (swapped vs GLUE's sentence, label).
                columns={"content": "sentence"},
            ),
            category="sentiment",
            template_sets=("glue/sst2",),
            int_columns=("label",),
        ),
        TaskSpec(
            name="rte",
            source=PublicSource(
                name="rte",
                hub_id="nyu-mll/glue",
                hub_config="rte",
                mirror_path="nlp_raw/rte/train.tsv",
                format="tsv",
                license="unknown",
            ),
            category="nli",
            template_sets=("glue/rte", "super_glue/rte"),
            int_columns=("label", "idx"),
            csv_quoted=True,
            aliases={"premise": "sentence1", "hypothesis": "sentence2"},
        ),
        TaskSpec(
            name="ag_news",
            source=PublicSource(
                name="ag_news",
                hub_id="fancyzhx/ag_news",
                mirror_path="nlp_raw/ag_news/dev.tsv",
                format="tsv",
                license="unknown",
                fieldnames=("text", "label"),
            ),
            category="topic_classification",
            template_sets=("ag_news",),
            label_names=("World", "Sports", "Business", "Sci/Tech"),
            csv_quoted=True,
            note="10,000 rows held out of AG News train (ALPS)",
        ),
        TaskSpec(
            name="squad_v2",
            source=PublicSource(
                name="squad_v2",
                hub_id="rajpurkar/squad_v2",
                hub_split="validation",
                mirror_path="nlp_raw/squad/squad_v2_dev_first5articles.json",
                format="json",
                license="cc-by-sa-4.0",
            ),
            category="extractive_qa",
            template_sets=("squad_v2",),
            reshape="squad",
            note="first 5 articles of SQuAD 2.0 dev (an evaluation split)",
        ),
        TaskSpec(
            name="openbookqa",
            source=PublicSource(
                name="openbookqa",
                hub_id="allenai/openbookqa",
                hub_config="main",
                hub_split="test",
                mirror_path="nlp_raw/openbookqa/test.jsonl",
                format="jsonl",
                license="apache-2.0",
            ),
            category="multiple_choice_qa",
            template_sets=("openbookqa/main",),
            reshape="openbookqa",
            note="OpenBookQA test (an evaluation split)",
        ),
        TaskSpec(
            name="snli",
            source=_textfooler(
                "snli",
                "stanfordnlp/snli",
                "test",
                "cc-by-sa-4.0",
                fieldnames=("label", "premise", "hypothesis"),
                file_format="tsv",
            ),
            category="nli",
            template_sets=("snli",),
            label_names=_NLI_LABELS,
            note=_TEXTFOOLER_NOTE,
        ),
        TaskSpec(
            name="mnli_matched",
            source=_textfooler(
                "mnli_matched",
                "nyu-mll/glue",
                "validation_matched",
                "other",
                hub_config="mnli",
                fieldnames=("label", "premise", "hypothesis"),
                file_format="tsv",
            ),
            category="nli",
            template_sets=("glue/mnli", "multi_nli"),
            label_names=_NLI_LABELS,
            note=_TEXTFOOLER_NOTE,
        ),
        TaskSpec(
            name="mnli_mismatched",
            source=_textfooler(
                "mnli_mismatched",
                "nyu-mll/glue",
                "validation_mismatched",
                "other",
                hub_config="mnli",
                fieldnames=("label", "premise", "hypothesis"),
                file_format="tsv",
            ),
            category="nli",
            template_sets=("glue/mnli", "multi_nli"),
            label_names=_NLI_LABELS,
            note=_TEXTFOOLER_NOTE,
        ),
        TaskSpec(
            name="imdb",
            source=_textfooler("imdb", "stanfordnlp/imdb", "test", "other"),
            category="sentiment",
            template_sets=("imdb",),
            reshape="label_space_text",
            note=_TEXTFOOLER_NOTE,
        ),
        TaskSpec(
            name="rotten_tomatoes",
            source=_textfooler(
                "mr", "cornell-movie-review-data/rotten_tomatoes", "test", "unknown"
            ),
            category="sentiment",
            template_sets=("rotten_tomatoes",),
            reshape="label_space_text",
            note=_TEXTFOOLER_NOTE + " (MR = Rotten Tomatoes sentence polarity)",
        ),
        TaskSpec(
            name="yelp_polarity",
            source=_textfooler("yelp", "fancyzhx/yelp_polarity", "test", "other"),
            category="sentiment",
            template_sets=("project/yelp_polarity",),
            reshape="label_space_text",
            note=_TEXTFOOLER_NOTE + "; binary labels, so the project's own templates",
        ),
        *(_cot(name) for name in ("gsm8k", "aqua", "strategyqa", "creak", "ecqa", "qasc")),
        _cot("sensemaking"),
    ]
}


def get_task(name: str) -> TaskSpec:
    """The task called `name` (raises `SourceError` listing the known tasks)."""
    if name not in TASKS:
        raise SourceError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]


def load_task_rows(task: TaskSpec, mirror: Path | None) -> list[dict[str, Any]]:
    """The rows of `task` in the Hub schema its templates expect, from the mirror or the Hub.

    Mirror rows are renamed (`source.columns`), reshaped and typed; aliases are added to both.
    Mirror files are parsed once per process (keyed by path, size and mtime); the row dicts are
    shared, so callers must not change them. Raises `SourceError` naming the file, row and
    field on malformed data.
    """
    if mirror is not None:
        path = task.source.mirror_file(mirror)
        if path.is_file():
            stat = path.stat()
            return list(_cached_rows(task.name, Path(mirror), stat.st_size, stat.st_mtime_ns))
    return _read_task_rows(task, mirror)


@lru_cache(maxsize=32)
def _cached_rows(name: str, mirror: Path, size: int, mtime_ns: int) -> tuple[dict[str, Any], ...]:
    return tuple(_read_task_rows(TASKS[name], mirror))


def _read_task_rows(task: TaskSpec, mirror: Path | None) -> list[dict[str, Any]]:
    if mirror is None and not task.hub_loadable:
        raise SourceError(
            f"task {task.name!r} is read only from a local mirror ({task.source.mirror_path}); "
            "set INSTRUCTMIX_MIRROR (or --mirror)"
        )
    raw = load_rows(task.source, mirror)
    if mirror is not None:
        raw = reshape(task.reshape, raw, str(task.source.mirror_file(mirror)))
    where = str(task.source.mirror_file(mirror)) if mirror is not None else task.source.hub_id
    out = []
    for index, row in enumerate(raw):
        if mirror is not None:
            row = typed(
                row,
                label_names=task.label_names,
                int_columns=task.int_columns
                + (("label",) if task.reshape == RESHAPE_LABEL_TEXT else ()),
                csv_quoted=task.csv_quoted,
                where=f"{where}: row {index} (counting from 0)",
            )
        else:
            row = dict(row)
        for alias, column in task.aliases.items():
            row.setdefault(alias, row.get(column))
        out.append(row)
    return out


def task_files(task: TaskSpec, mirror: Path) -> list[Path]:
    """The mirror files the task reads."""
    return [task.source.mirror_file(mirror)]
