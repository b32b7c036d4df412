"""Templated public NLP tasks (T0 / P3 promptsource templates, FLAN variants) as a generator.

`generator.py` is the generator module (Config, generate, inputs, licenses); `templates.py`
reads templates, `render.py` renders them in Jinja's sandbox, `tasks.py` is the task catalog,
`flan.py` the FLAN-style variants.
"""
