"""Publishing a built mixture: the Prefect flow `publish(name, repo)`.

The upload task's `HfApi` finds the token itself (HF_TOKEN or the saved login): it is never a
flow or task parameter (Prefect stores those), never logged and never written.
"""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import HfApi
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from data_cards import hub
from mixtures.folder import DEFAULT_ROOT, MixtureFolder


def hub_api() -> HfApi:
    """An `HfApi` for HF_ENDPOINT (read now: huggingface_hub reads it once, at import; default
    the public Hub) with huggingface_hub's own token lookup: HF_TOKEN, then the saved login."""
    endpoint = (os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None
    return HfApi(endpoint=endpoint, library_name="instructmix")


@task(name="plan-upload", cache_policy=NO_CACHE)
def plan_task(folder: Path, include_rejected: bool) -> list[hub.UploadFile]:
    """List the files the push will send (fails early when the build is incomplete)."""
    plan = hub.upload_plan(folder, include_rejected)
    total = sum(item.size for item in plan)
    get_run_logger().info("%d files, %.1f MB to upload from %s", len(plan), total / 1e6, folder)
    return plan


@task(name="upload", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def upload_task(
    folder: Path, repo: str, private: bool, revision: str | None, include_rejected: bool
) -> hub.PushResult:
    """Create the repository if needed and upload the mixture in one commit (retried: network)."""
    api = hub_api()
    result = hub.push_folder(folder, repo, api, private, revision, include_rejected)
    get_run_logger().info("pushed %s@%s: %s", repo, result.revision, result.commit_url)
    create_table_artifact(
        key="published-files",
        table=[{"path": item.path_in_repo, "bytes": item.size} for item in result.files],
        description=f"{repo}@{result.revision}: {result.commit_url}",
    )
    return result


@flow(name="publish-mixture", log_prints=True)
def publish(
    name: str,
    repo: str,
    private: bool = False,
    revision: str | None = None,
    include_rejected: bool = False,
    output_dir: Path = DEFAULT_ROOT,
) -> hub.PushResult:
    """Push built mixture `name` (under `output_dir`, or a built folder) with its card, shards,
    plots and lock to the Hub dataset repo `repo`."""
    hub.check_repo_id(repo)
    folder = MixtureFolder.resolve(name, output_dir).require_built().path
    plan_task(folder, include_rejected)
    return upload_task(folder, repo, private, revision, include_rejected)
