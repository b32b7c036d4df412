"""Options shared by several commands, each defined once (name, type, default, help).

One name per concept: `--output-dir` is the folder of built mixtures (build writes there;
inspect, card, push and train read there); `--result-cache` is Prefect's store of generated
sources (build); `--model-cache` holds converted base models (train).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mixtures.folder import DEFAULT_ROOT

RecipeName = Annotated[
    str,
    typer.Argument(help="recipe name (mixtures/recipes/NAME.yaml) or a YAML path"),
]
MixtureName = Annotated[
    str, typer.Argument(help="mixture name (OUTPUT_DIR/NAME) or a built folder")
]
Mirror = Annotated[
    str | None,
    typer.Option(help="local mirror of the public data (default: $INSTRUCTMIX_MIRROR; none: Hub)"),
]
OutputDir = Annotated[Path, typer.Option(help="folder of built mixtures")]
DEFAULT_OUTPUT_DIR = DEFAULT_ROOT
ResultCache = Annotated[
    Path, typer.Option(help="Prefect result store: generated sources are reused from here")
]
ModelCache = Annotated[
    Path | None,
    typer.Option(
        help="converted base models (default: $INSTRUCTMIX_CACHE/models or "
        "~/.cache/instructmix/models)"
    ),
]
