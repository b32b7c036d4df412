"""Personal data in text: e-mail addresses, phone numbers and URLs, found and masked.

Patterns are deliberately conservative: a phone number needs a leading `+`, parentheses
around its area code or dash/dot separators (`555-123-4567`), so lists of plain numbers are
not taken for phone numbers.

The `pii_mask` transform (a stage of its own, declared in a recipe's `filters` list as
`- kind: pii_mask`) replaces every match of a kind set to `mask` by `[EMAIL]`, `[PHONE]` or
`[URL]` in every turn. A changed row keeps its place, gets a new `id` (the hash of its new
messages) and `meta.pii_masked` (matches per kind, and the id it had before). Should masking
make a row identical to an earlier row (two rows that differed only in an e-mail address),
the later one is rejected as `duplicate_after_masking`, `duplicate_of` naming the earlier one.
The report's extras count rows changed per kind (`rows_changed`) and matches per kind.
(Dropping rows that hold personal data is a verdict: the `quality` filter's `email`, `phone`
and `url` options.)
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from filters.dispatch import Transformed, Verdicts
from instances import instance_id, meta, normalise_messages
from instances.context import StageContext

PII_KINDS = ("email", "phone", "url")

PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": (
        r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}"
        r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
        r"|\b\d{3}[.-]\d{3}[.-]\d{4})\b"
    ),
    "url": r"\b(?:https?://|www\.)[^\s<>\"'`)\]]*[^\s<>\"'`)\].,;:!?]",
}
MASKS: dict[str, str] = {"email": "[EMAIL]", "phone": "[PHONE]", "url": "[URL]"}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}


def find(kind: str, text: str) -> list[str]:
    """All matches of one kind of personal data in `text`.

    >>> find("email", "write to jane.doe@example.org today")
    ['jane.doe@example.org']
    >>> find("phone", "call (555) 123-4567 or +44 20 7946 0958; not 100 200 300")
    ['(555) 123-4567', '+44 20 7946 0958']
    """
    return _COMPILED[kind].findall(text)


def mask(kind: str, text: str) -> tuple[str, int]:
    """`text` with every match of `kind` replaced by its mask, and the number replaced.

    >>> mask("url", "see https://example.com/a?b=1.")
    ('see [URL].', 1)
    """
    return _COMPILED[kind].subn(MASKS[kind], text)


DUPLICATE_AFTER_MASKING = "duplicate_after_masking"


class Config(BaseModel):
    """Which kinds of personal data the `pii_mask` transform masks."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pii_mask"] = "pii_mask"
    email: Literal["keep", "mask"] = "mask"
    phone: Literal["keep", "mask"] = "mask"
    url: Literal["keep", "mask"] = "keep"

    def masked_kinds(self) -> list[str]:
        """The kinds set to `mask`, in `PII_KINDS` order."""
        return [kind for kind in PII_KINDS if getattr(self, kind) == "mask"]


def _candidate_rows(table: pa.Table, kinds: list[str]) -> list[int]:
    """Rows whose text matches any of `kinds`, found in one vectorised pass."""
    joined = (
        pl.from_arrow(table.select(["messages"]))
        .with_row_index("row")
        .explode("messages")
        .unnest("messages")
        .group_by("row", maintain_order=True)
        .agg(pl.col("content").str.join("\n"))
    )
    pattern = "|".join(f"(?:{PATTERNS[kind]})" for kind in kinds)
    return joined.filter(pl.col("content").str.contains(pattern)).get_column("row").to_list()


def mask_turns(turns: list[dict], kinds: list[str]) -> tuple[list[dict], Counter[str]]:
    """`turns` with every match of `kinds` masked, and the matches replaced per kind.

    >>> mask_turns([{"role": "user", "content": "mail a@b.io"}], ["email"])
    ([{'role': 'user', 'content': 'mail [EMAIL]'}], Counter({'email': 1}))
    """
    counts: Counter[str] = Counter()
    masked = []
    for turn in turns:
        content = turn["content"]
        for kind in kinds:
            content, replaced = mask(kind, content)
            counts[kind] += replaced
        masked.append({"role": turn["role"], "content": content})
    return masked, +counts


def _with_column(table: pa.Table, name: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(name)
    field = table.schema.field(index)
    return table.set_column(index, field, pa.array(values, field.type))


def transform(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Transformed:
    """Mask personal data of the kinds set to `mask`; judge rows that masking made duplicates.

    Columns read: messages, id, meta. Columns written (changed rows only): messages, id,
    meta.pii_masked. Verdicts: `duplicate_after_masking` with duplicate_of, or None.
    Extras: `rows` changed, `rows_changed` and `matches` per kind.

    >>> from instances import make_instance, make_table
    >>> turns = lambda p: [{"role": "user", "content": p}, {"role": "assistant", "content": "ok"}]
    >>> rows = [make_instance(turns(p), source="s", origin="human", task="t", category="c",
    ...     template="raw") for p in ("mail a@b.io", "mail c@d.io", "none")]
    >>> out = transform(make_table(rows), Config())
    >>> out.verdicts.reasons, out.verdicts.extras["rows_changed"]
    ([None, 'duplicate_after_masking', None], {'email': 2, 'phone': 0})
    """
    kinds = config.masked_kinds()
    candidates = _candidate_rows(table, kinds) if kinds and table.num_rows else []
    messages = table.column("messages").to_pylist() if candidates else []
    ids = table.column("id").to_pylist()
    metas = table.column("meta").to_pylist() if candidates else []
    rows_changed: Counter[str] = Counter()
    matches: Counter[str] = Counter()
    new_ids: set[str] = set()
    changed_rows = 0
    for row in candidates:
        turns, counts = mask_turns(messages[row], kinds)
        if not counts:
            continue
        changed_rows += 1
        rows_changed.update(counts.keys())
        matches.update(counts)
        messages[row] = normalise_messages(turns)
        data = meta.loads(metas[row])
        data["pii_masked"] = {"counts": dict(counts), "original_id": ids[row]}
        metas[row] = meta.dumps(data)
        ids[row] = instance_id(messages[row])
        new_ids.add(ids[row])
    extras = {
        "rows": changed_rows,
        "rows_changed": {kind: rows_changed[kind] for kind in kinds},
        "matches": {kind: matches[kind] for kind in kinds},
    }
    if not new_ids:
        return Transformed(table, Verdicts.keep_all(table.num_rows, extras))
    changed = _with_column(table, "messages", messages)
    changed = _with_column(changed, "id", ids)
    changed = _with_column(changed, "meta", metas)
    seen: set[str] = set()
    duplicate_of: list[str | None] = []
    for row_id in ids:
        duplicate_of.append(row_id if row_id in seen and row_id in new_ids else None)
        seen.add(row_id)
    reasons = [None if d is None else DUPLICATE_AFTER_MASKING for d in duplicate_of]
    return Transformed(changed, Verdicts(reasons, duplicate_of, extras))
