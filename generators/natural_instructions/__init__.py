"""Natural Instructions / Super-NaturalInstructions: crowdsourced task schemas as instances.

`task_file` parses and validates task files, `encodings` renders instructions (the paper's
ablation encodings and Tk-Instruct's knobs), `selection` picks tasks by split, and
`generate` is the generator (kind `natural_instructions`).
"""

from generators.natural_instructions.generate import (
    Config,
    generate,
    inputs,
    licenses,
)

__all__ = ["Config", "generate", "inputs", "licenses"]
