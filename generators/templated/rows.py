"""Bringing mirror files' rows to the Hub schema the templates expect.

Each function is pure: nested formats (SQuAD articles, OpenBookQA's original JSONL,
TextFooler's `label text` lines, FLAN's CoT TSV) are reshaped into flat Hub-style rows, then
label names and integer columns are typed. Errors name the file, the row and the field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from instances.errors import SourceError

Reshape = Literal["none", "squad", "openbookqa", "label_space_text", "flan_cot"]
RESHAPE_LABEL_TEXT = "label_space_text"


def _squad_rows(raw: list[dict]) -> list[dict]:
    rows = []
    for article in raw:
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers") or []
                rows.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in answers],
                            "answer_start": [a["answer_start"] for a in answers],
                        },
                    }
                )
    return rows


def _openbookqa_row(row: dict) -> dict:
    question = row["question"]
    return {
        "id": row["id"],
        "question_stem": question["stem"],
        "choices": {
            "text": [c["text"] for c in question["choices"]],
            "label": [c["label"] for c in question["choices"]],
        },
        "answerKey": row["answerKey"],
    }


def _unquote(text: str) -> str:
    """Undo CSV-style quoting of one field (outer quotes, doubled inner quotes)."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text


def _label_space_text(row: dict) -> dict:
    label, _, text = row["text"].partition(" ")
    return {"text": _unquote(text.strip()).replace("\\n", "\n"), "label": label}


_ESCAPED_NEWLINE = re.compile(r"\\n")


def _flan_cot_row(row: dict) -> dict:
    return {key: _ESCAPED_NEWLINE.sub("\n", value).strip() for key, value in row.items()}


def _reshape_all(kind: str, raw: list[dict]) -> list[dict]:
    if kind == "squad":
        return _squad_rows(raw)
    if kind == "openbookqa":
        return [_openbookqa_row(row) for row in raw]
    if kind == "label_space_text":
        return [_label_space_text(row) for row in raw]
    if kind == "flan_cot":
        return [_flan_cot_row(row) for row in raw]
    return raw


def reshape(kind: str, raw: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Rows of a mirror file in the Hub's flat layout; a missing key names file and item."""
    try:
        return _reshape_all(kind, raw)
    except (KeyError, TypeError, AttributeError) as error:
        raise SourceError(
            f"{where}: does not have the {kind} layout ({type(error).__name__}: {error})"
        ) from None


def typed(
    row: dict[str, Any],
    *,
    label_names: tuple[str, ...] | None,
    int_columns: tuple[str, ...],
    csv_quoted: bool,
    where: str,
) -> dict[str, Any]:
    """A copy of `row` with CSV quoting undone, label names as ids and integer columns typed.

    >>> typed({"label": "b", "n": "3"}, label_names=("a", "b"), int_columns=("n",),
    ...       csv_quoted=False, where="f.tsv: row 0")
    {'label': 1, 'n': 3}
    """
    row = dict(row)
    if csv_quoted:
        row = {k: _unquote(v) if isinstance(v, str) else v for k, v in row.items()}
    if label_names is not None and isinstance(row.get("label"), str):
        if row["label"] not in label_names:
            raise SourceError(
                f"{where}, field 'label': expected one of {list(label_names)}, got {row['label']!r}"
            )
        row["label"] = label_names.index(row["label"])
    for column in int_columns:
        value = row.get(column)
        if isinstance(value, str):
            try:
                row[column] = int(value)
            except ValueError:
                raise SourceError(
                    f"{where}, field {column!r}: expected an integer, got {value!r}"
                ) from None
    return row
