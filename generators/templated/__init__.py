"""Templated public NLP tasks (T0 / P3 promptsource templates, FLAN variants) as a generator.

`generator.py` is the generator module (Config, generate, inputs, licenses); `templates.py`
reads templates, `render.py` renders them in Jinja's sandbox, `tasks.py` is the task catalog
and `rows.py` maps mirror files to the Hub schema, `flan.py` holds the FLAN-style variants
and `stats.py` the per-template counters of the report. See docs/templated.md.
"""
