"""Publishing a built mixture: the Prefect flow `publish(name, repo)` and the Hub settings.

The token is read from the environment inside the upload task and handed to `HfApi` only: it is
never a flow or task parameter (Prefect stores those), never logged and never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from data_cards import hub
from mixtures.folder import DEFAULT_ROOT, MixtureFolder

DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class HubSettings:
    """Where to push and as whom: HF_ENDPOINT (default the public Hub) and HF_TOKEN.

    The token is kept out of repr so that it cannot end up in a log line.
    """

    endpoint: str = DEFAULT_ENDPOINT
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> HubSettings:
        """Read HF_ENDPOINT and HF_TOKEN (HUGGING_FACE_HUB_TOKEN as a fallback)."""
        endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None
        return cls(endpoint=endpoint, token=token)

    def api(self):
        """An `HfApi` for this endpoint and token (None: huggingface_hub's own login, if any)."""
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token, library_name="instructmix")


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
    api = HubSettings.from_env().api()
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
