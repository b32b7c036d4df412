"""Source resolution: mirror files read with clear errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from instances import SourceError
from instances.sources import PublicSource, load_rows, read_file


def _source(path: str, fmt: str, **extra) -> PublicSource:
    return PublicSource(
        name="t", hub_id="org/t", mirror_path=path, format=fmt, license="mit", **extra
    )


def test_jsonl_malformed_line_is_named(tmp_path: Path):
    (tmp_path / "d.jsonl").write_text('{"a": 1}\n\n{"a": 2,}\n')
    with pytest.raises(SourceError, match=r"d\.jsonl: line 3 is not valid JSON"):
        load_rows(_source("d.jsonl", "jsonl"), tmp_path)


def test_json_list_malformed_names_line_and_column(tmp_path: Path):
    (tmp_path / "d.json").write_text('[\n{"a": 1},\n{"a" 2}\n]')
    with pytest.raises(SourceError, match=r"d\.json: malformed JSON at line 3, column 6"):
        load_rows(_source("d.json", "json"), tmp_path)


def test_missing_mirror_file_is_named(tmp_path: Path):
    with pytest.raises(SourceError, match=r"nope\.json: file not found in the mirror"):
        load_rows(_source("nope.json", "json"), tmp_path)


def test_tsv_with_wrong_field_count_names_the_line(tmp_path: Path):
    (tmp_path / "d.tsv").write_text("sentence\tlabel\nfine\t1\nbroken\n")
    with pytest.raises(SourceError, match=r"d\.tsv: line 3 has 1 fields, expected 2"):
        read_file(tmp_path / "d.tsv", "tsv")


def test_declared_column_mapping_renames_file_columns(tmp_path: Path):
    (tmp_path / "d.jsonl").write_text('{"text": "good film", "y": 1}\n')
    source = _source("d.jsonl", "jsonl", columns={"text": "sentence", "y": "label"})
    assert load_rows(source, tmp_path) == [{"sentence": "good film", "label": 1}]


def test_without_a_mirror_the_hub_is_asked_and_failure_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(
        SourceError, match=r"could not load 'org/does-not-exist'.*INSTRUCTMIX_MIRROR"
    ):
        load_rows(
            _source("x.json", "json").model_copy(update={"hub_id": "org/does-not-exist"}), None
        )
