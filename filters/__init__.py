"""Filters: `run(table, config, ctx) -> StageResult(kept, rejected, report)`.

Rows are never deleted: rejected rows carry `reject_stage`, `reject_reason` (a stable
snake_case constant defined next to the filter) and, for dedup, `duplicate_of`.
`registry.py` gathers every filter's `Config` for recipes. Filters import only `instances/`.
"""
