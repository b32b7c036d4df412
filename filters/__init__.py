"""Filters give verdicts; transforms change rows; neither splits, counts nor times itself.

A filter: `verdicts(table, config, ctx) -> Verdicts` (per row a reject reason, a stable
snake_case constant defined next to the filter, or None; for dedup `duplicate_of`; extras).
A transform (PII masking, language tagging): `transform(table, config, ctx) -> Transformed`.
`dispatch.py` turns either into `StageResult(kept, rejected, report)`: rows are never deleted,
rejected rows carry `reject_stage`, `reject_reason` and `duplicate_of`, and every report
balances. `registry.run_filter(table, config, ctx)` is the entry point; `registry.py` also
gathers every `Config` for recipes. Filters import only `instances/`.
"""
