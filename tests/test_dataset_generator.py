"""`kind: dataset`: hand-written files in every format, compressed files, the Hub code path
(a local dataset folder read through `datasets` offline), bad rows rejected by reason."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError as PydanticValidationError

from generators import dataset, local
from instances import SourceError, validate
from instances.context import StageContext
from instances.dataset_files import read_file
from mixtures.build import build_into
from mixtures.recipe import RecipeError, parse_recipe

FIXTURES = Path(__file__).parent / "fixtures" / "byod"
CTX = StageContext()


def run(**spec):
    return dataset.generate(dataset.Config(**spec), CTX)


def reasons(result) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in result.rejected.to_pylist():
        out.setdefault(row["reject_reason"], []).append(json.loads(row["meta"])["row"])
    return out


def test_messages_jsonl_keeps_good_rows_and_rejects_each_bad_row_by_reason():
    result = run(
        path=str(FIXTURES / "chats.jsonl"),
        format="messages",
        origin="human",
        category_column="topic",
    )
    kept = validate(result.kept)
    assert kept.num_rows == 2
    assert kept.column("category").to_pylist() == ["geography", "math"]
    assert reasons(result) == {
        "non_string_content": [2, 7],
        "unknown_role": [3],
        "empty_turn": [4],
        "no_assistant_last": [5],
        "missing_field": [6],
    }
    assert result.report.extras["rejected_rows"]["non_string_content"] == [2, 7]
    assert result.report.balanced() and result.report.rows_in == 8


def test_numbers_and_nulls_are_never_coerced_to_text():
    result = run(path=str(FIXTURES / "chats.jsonl"), format="messages", origin="human")
    texts = [m["content"] for row in result.kept.to_pylist() for m in row["messages"]]
    assert "8" not in texts and "None" not in texts


def test_sharegpt_both_layouts_and_unused_column_usable_as_category_and_kept_in_meta():
    result = run(
        path=str(FIXTURES / "sharegpt.json"),
        format="sharegpt",
        origin="human",
        category_column="source",
    )
    kept = validate(result.kept).to_pylist()
    assert [r["category"] for r in kept] == ["poetry", "wikihow", "math"]
    assert [m["role"] for m in kept[1]["messages"]] == ["user", "assistant"] * 2
    assert kept[2]["messages"][0] == {"role": "system", "content": "You are terse."}
    assert reasons(result) == {"no_assistant_last": [3], "unknown_role": [4]}
    # without category_column the column is kept in meta
    plain = run(path=str(FIXTURES / "sharegpt.json"), format="sharegpt", origin="human")
    assert json.loads(plain.kept.to_pylist()[1]["meta"])["source"] == "wikihow"


def test_alpaca_history_input_and_extra_columns():
    result = run(
        path=str(FIXTURES / "alpaca.json"),
        format="alpaca",
        origin="distilled",
        task="my_alpaca",
        license="cc-by-4.0",
    )
    kept = validate(result.kept).to_pylist()
    assert kept[0]["messages"][0]["content"] == "Translate to French.\n\nGood morning"
    assert [m["role"] for m in kept[2]["messages"]] == ["user", "assistant"] * 2
    meta = json.loads(kept[0]["meta"])
    assert meta["difficulty"] == "easy" and meta["license"] == "cc-by-4.0" and meta["row"] == 0
    assert {r["task"] for r in kept} == {"my_alpaca"}
    assert reasons(result) == {"missing_field": [3], "non_string_content": [4]}


def test_columns_format_reads_tsv_cells_as_text_and_lang_column():
    result = run(
        path=str(FIXTURES / "qa.tsv"),
        format="columns",
        origin="human",
        columns={"prompt": "question", "response": "answer"},
        lang_column="language",
    )
    kept = validate(result.kept).to_pylist()
    assert kept[0]["messages"][1]["content"] == "5"  # a cell, read as written
    assert [r["lang"] for r in kept] == ["en", "fr"]
    assert list(reasons(result)) == ["missing_field"]


def test_prompt_completion_csv_and_conversational_parquet(tmp_path):
    result = run(path=str(FIXTURES / "pc.csv"), format="prompt_completion", origin="human")
    assert validate(result.kept).num_rows == 2
    assert result.kept.to_pylist()[0]["messages"][0]["content"] == "Say hello, politely."
    turns = pa.array([[{"role": "user", "content": "Hi"}], [{"role": "user", "content": "Yo"}]])
    answers = pa.array(
        [[{"role": "assistant", "content": "Hello"}], [{"role": "user", "content": "?"}]]
    )
    pq.write_table(pa.table({"prompt": turns, "completion": answers}), tmp_path / "pc.parquet")
    conv = run(path=str(tmp_path / "pc.parquet"), format="prompt_completion", origin="human")
    assert conv.kept.num_rows == 1 and reasons(conv) == {"no_assistant_last": [1]}


def test_natural_instructions_task_file_expands_its_instances():
    result = run(
        path=str(FIXTURES / "task900_reverse_words.json"),
        format="natural_instructions",
        origin="crowdsourced_schema",
    )
    kept = validate(result.kept).to_pylist()
    assert [r["task"] for r in kept] == ["task900_reverse_words"] * 2
    assert kept[0]["messages"][0]["content"].startswith("Reverse the order")
    assert kept[0]["messages"][1]["content"] == "sat cat the"
    assert json.loads(kept[0]["meta"])["instance_id"] == "task900-1"
    assert result.rejected.num_rows == 1


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_files_and_globs_and_folders(tmp_path, suffix):
    raw = (FIXTURES / "chats.jsonl").read_bytes()
    target = tmp_path / "nested" / f"chats.jsonl{suffix}"
    target.parent.mkdir()
    if suffix == ".gz":
        target.write_bytes(gzip.compress(raw))
    else:
        with pa.output_stream(str(target), compression="zstd") as out:
            out.write(raw)
    for path in (str(target), str(tmp_path / "nested" / "*.jsonl*"), str(tmp_path)):
        result = run(path=path, format="messages", origin="human")
        assert result.kept.num_rows == 2 and result.rejected.num_rows == 6


def test_unreadable_file_is_one_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"messages": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"broken\.jsonl: line 2 is not valid JSON"):
        run(path=str(bad), format="messages", origin="human")
    truncated = tmp_path / "x.jsonl.gz"
    truncated.write_bytes(gzip.compress(b'{"a": 1}\n')[:12])
    with pytest.raises(SourceError, match=r"x\.jsonl\.gz: cannot read"):
        run(path=str(truncated), format="messages", origin="human")
    with pytest.raises(SourceError, match="no such file"):
        run(path=str(tmp_path / "absent.jsonl"), format="messages", origin="human")


def test_hub_code_path_reads_a_local_dataset_folder_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    repo = tmp_path / "my_org__lima_like"
    (repo / "data").mkdir(parents=True)
    shutil.copy(FIXTURES / "sharegpt.json", repo / "data" / "train.json")
    result = run(hub=str(repo), format="sharegpt", origin="human", category_column="source")
    assert result.kept.num_rows == 3 and result.rejected.num_rows == 2
    meta = json.loads(result.kept.to_pylist()[0]["meta"])
    assert meta["hub"] == str(repo) and meta["split"] == "train"
    with pytest.raises(SourceError, match="could not load it"):
        run(hub=str(repo), split="test", format="sharegpt", origin="human")


def test_spec_validation_names_the_field():
    with pytest.raises(PydanticValidationError, match="exactly one of hub"):
        dataset.Config(format="messages", origin="human")
    with pytest.raises(PydanticValidationError, match="needs columns.prompt"):
        dataset.Config(path="x.csv", format="columns", origin="human")
    with pytest.raises(PydanticValidationError, match="category .* or category_column"):
        dataset.Config(
            path="x", format="messages", origin="human", category="a", category_column="b"
        )
    with pytest.raises(PydanticValidationError, match="revision is for Hub"):
        dataset.Config(path="x", format="messages", origin="human", revision="main")
    with pytest.raises(
        RecipeError, match=r"field 'sources\.0\.generator\.dataset\.origin' is missing"
    ):
        parse_recipe(
            {
                "name": "r",
                "sources": [
                    {
                        "name": "a",
                        "generator": {"kind": "dataset", "path": "x.jsonl", "format": "messages"},
                    }
                ],
            }
        )


def build_chats_mixture(folder: Path) -> None:
    """Build a one-source mixture of the chats fixture (2 good rows, 6 rejected) into `folder`."""
    path = str(FIXTURES / "chats.jsonl")
    generator = {"kind": "dataset", "path": path, "format": "messages", "origin": "human"}
    recipe = parse_recipe(
        {"name": folder.name, "sources": [{"name": "chats", "generator": generator}]}
    )
    build_into(recipe, CTX, folder)


def test_a_built_mixture_folder_reads_its_split_never_rejected_rows(tmp_path):
    build_chats_mixture(tmp_path / "first")
    assert pq.read_table(tmp_path / "first" / "rejected.parquet").num_rows == 6
    again = run(path=str(tmp_path / "first"), format="messages", origin="human")
    assert again.kept.num_rows == 2 and again.rejected.num_rows == 0


def test_read_file_keeps_values_as_stored():
    rows = read_file(FIXTURES / "chats.jsonl")
    assert rows[2]["messages"][1]["content"] == 8


def test_a_recipe_mixes_every_format_and_the_funnel_names_rejected_rows(tmp_path):
    def source(name, file, fmt, **extra):
        generator = {"kind": "dataset", "path": str(FIXTURES / file), "format": fmt}
        return {"name": name, "generator": {"origin": "human", **generator, **extra}}

    recipe = parse_recipe(
        {
            "name": "every-format",
            "sources": [
                source("chats", "chats.jsonl", "messages"),
                source("sharegpt", "sharegpt.json", "sharegpt", category_column="source"),
                source("alpaca", "alpaca.json", "alpaca"),
                source("pc", "pc.csv", "prompt_completion"),
                source(
                    "qa", "qa.tsv", "columns", columns={"prompt": "question", "response": "answer"}
                ),
                source("ni", "task900_reverse_words.json", "natural_instructions"),
            ],
            "filters": [{"kind": "exact_dedup", "source_priority": ["sharegpt"]}],
        }
    )
    result = build_into(recipe, CTX, tmp_path / "every-format")
    assert result.splits["train"].num_rows == 2 + 3 + 3 + 2 + 2 + 2
    funnel = json.loads((tmp_path / "every-format" / "funnel.json").read_text())
    chats = next(stage for stage in funnel if stage["stage"] == "generate:chats")
    assert chats["dropped_by_reason"]["non_string_content"] == 2
    assert chats["extras"]["rejected_rows"]["unknown_role"] == [3]
    manifest = json.loads((tmp_path / "every-format" / "manifest.json").read_text())
    assert any(key.endswith("chats.jsonl") for key in manifest["inputs"])


def test_instances_file_reads_a_built_mixture_and_refuses_jsonl_in_one_line(tmp_path):

    build_chats_mixture(tmp_path / "first")
    again = local.generate(local.Config(path=tmp_path / "first"), CTX)
    assert again.kept.num_rows == 2
    assert all(
        "rejected" not in str(p) for p in local.inputs(local.Config(path=tmp_path / "first"), CTX)
    )
    with pytest.raises(
        SourceError, match=r"chats\.jsonl: instances_file reads Parquet.*kind: dataset"
    ):
        local.generate(local.Config(path=FIXTURES / "chats.jsonl"), CTX)
