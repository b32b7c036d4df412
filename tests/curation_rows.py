"""Tiny hand-written rows for the curation filter tests."""

from __future__ import annotations

from instances import make_instance, make_table


def row(prompt: str, response: str = "ok", source: str = "a", meta: dict | None = None) -> dict:
    """One user/assistant instance."""
    return make_instance(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}],
        source=source,
        origin="human",
        task="t",
        category="c",
        template="raw",
        meta=meta or {},
    )


def table(rows: list[dict]):
    """An instance table of `rows`."""
    return make_table(rows)


def check_balanced(result, rows_in: int) -> None:
    """rows_in == kept + rejected, in the report and in the tables."""
    assert result.report.rows_in == rows_in
    assert result.report.balanced()
    assert result.kept.num_rows + result.rejected.num_rows == rows_in
    assert result.report.rows_out == result.kept.num_rows
