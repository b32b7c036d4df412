"""Publishing a built mixture to the Hugging Face Hub as a dataset repository.

`upload_plan` decides exactly which files of a mixture folder go up (the data shards, the card,
its plots, the lock and the funnel; `rejected.parquet` only when asked); `push_folder` sends them
in one commit through `huggingface_hub.HfApi`. The caller builds the `HfApi` with the endpoint and
token it read at its edge (CLI or flow): nothing here reads the environment or writes a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi

from data_cards.metadata import stamp_repo_id
from instances import InstructmixError
from instances.io import write_text_atomic
from mixtures.folder import FUNNEL, MANIFEST, REJECTED, MixtureFolder

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
METADATA_FILES = (MANIFEST, FUNNEL)


class PushError(InstructmixError):
    """A mixture cannot be pushed as asked (bad repo id, missing files); says what to fix."""


@dataclass(frozen=True)
class UploadFile:
    """One file of the upload: its path in the repository, on disk, and its size in bytes."""

    path_in_repo: str
    local_path: Path
    size: int


@dataclass(frozen=True)
class PushResult:
    """What a push did: the repository, revision, commit and the files it sent."""

    repo_id: str
    revision: str
    commit_url: str
    commit_oid: str
    files: list[UploadFile]


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it looks like "org/name", else a `PushError` saying so."""
    if not REPO_ID.match(repo_id) or ".." in repo_id or repo_id.endswith((".git", "-", ".")):
        raise PushError(
            f"--repo {repo_id!r}: expected a Hub dataset id like 'org/name' "
            "(letters, digits, '-', '_', '.')"
        )
    return repo_id


def upload_plan(folder: Path, include_rejected: bool = False) -> list[UploadFile]:
    """The files of mixture `folder` a push sends, in upload order.

    README.md (the card), data/*.parquet, plots/*.png, manifest.json and funnel.json; with
    `include_rejected`, also rejected.parquet. Raises `PushError` when the card or the data
    shards are missing (build the mixture first).
    """
    folder = Path(folder)
    mixture = MixtureFolder(folder)
    if not mixture.card_path.is_file():
        raise PushError(f"{folder}: no README.md card; build the mixture (instructmix build) first")
    shards = mixture.shard_files()
    if not shards:
        raise PushError(f"{folder}/data: no Parquet shards to upload; build the mixture first")
    paths = [mixture.card_path, *shards, *mixture.plot_files()]
    paths += [folder / name for name in METADATA_FILES if (folder / name).is_file()]
    if include_rejected:
        if not (folder / REJECTED).is_file():
            raise PushError(f"{folder}: --include-rejected given but there is no {REJECTED}")
        paths.append(folder / REJECTED)
    return [UploadFile(p.relative_to(folder).as_posix(), p, p.stat().st_size) for p in paths]


def commit_message(folder: Path) -> str:
    """The commit title: the mixture name and its recipe hash, from manifest.json."""
    manifest = MixtureFolder(Path(folder)).manifest()
    name = manifest.get("name", folder.name)
    digest = manifest.get("recipe_hash", "")[:16]
    return f"instructmix: {name}" + (f" (recipe {digest})" if digest else "")


def push_folder(
    folder: Path,
    repo_id: str,
    api: HfApi,
    private: bool = False,
    revision: str | None = None,
    include_rejected: bool = False,
) -> PushResult:
    """Create the dataset repository `repo_id` if needed and upload the mixture in one commit.

    With `revision`, the commit goes to that branch (created from main if missing). The card's
    load snippet (`ORG/<name>` until then) is rewritten to name `repo_id` first, and put back
    when the push fails (a failed push leaves the mixture as it was).
    """
    check_repo_id(repo_id)
    if revision is not None and not REVISION.match(revision):
        raise PushError(f"--revision {revision!r}: expected a branch name like 'v1' or 'dev'")
    upload_plan(folder, include_rejected)  # a missing card or shard fails before any change
    card = MixtureFolder(Path(folder)).card_path
    original = card.read_text(encoding="utf-8")
    stamped = stamp_repo_id(Path(folder), repo_id)  # the load snippet names the real repository
    plan = upload_plan(folder, include_rejected)  # the stamped card's size
    branch = revision or "main"
    try:
        # private=None leaves visibility to the Hub (or the organization's default)
        api.create_repo(
            repo_id, repo_type="dataset", private=True if private else None, exist_ok=True
        )
        if branch != "main":
            api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True)
        operations = [
            CommitOperationAdd(path_in_repo=item.path_in_repo, path_or_fileobj=str(item.local_path))
            for item in plan
        ]
        info = api.create_commit(
            repo_id,
            operations=operations,
            commit_message=commit_message(Path(folder)),
            repo_type="dataset",
            revision=branch,
        )
    except BaseException as error:
        if stamped:  # a push that did not happen leaves the built mixture byte for byte as it was
            write_text_atomic(original, card)
        if not _is_network_error(error):
            raise
        raise PushError(
            f"Hub at {api.endpoint} unreachable or refused datasets/{repo_id} "
            f"({type(error).__name__}: {' '.join(str(error).split())[:200]})"
        ) from None
    return PushResult(repo_id, branch, str(info.commit_url), str(info.oid), plan)


_NETWORK_MODULES = ("httpx", "httpcore", "requests", "urllib3", "huggingface_hub")


def _is_network_error(error: BaseException) -> bool:
    """Whether `error` comes from talking to the Hub (connection, HTTP status, timeout)."""
    return isinstance(error, OSError) or type(error).__module__.startswith(_NETWORK_MODULES)
