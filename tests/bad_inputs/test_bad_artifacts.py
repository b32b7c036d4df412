"""Damaged mixtures, unsafe exports, disk and permission faults, stale temporaries, umask.

`verify` and `build --check` name the first file that differs from the lock; `card --export`
never deletes what it did not write; a disk-full or permission fault is one line naming the
file and leaves the earlier mixture as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest
from corpus import GOOD_RECIPE, judge, run_cli, tally_judged, tree_digest


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def train(folder: Path) -> Path:
    return next((folder / "data").glob("train-*.parquet"))


def validation(folder: Path) -> Path:
    return next((folder / "data").glob("validation-*.parquet"))


def reseal_with(folder: Path, name: str) -> None:
    """Forge the seal so it matches a tampered file (the lock's outputs still disagree)."""
    from instances.checksums import SEAL, file_sha256

    lines = (folder / SEAL).read_text().splitlines()
    fixed = [
        f"{file_sha256(folder / name)}  {name}" if line.endswith(f"  {name}") else line
        for line in lines
    ]
    (folder / SEAL).write_text("\n".join(fixed) + "\n")


DAMAGE = {
    "flipped_byte_in_train": (
        lambda f: flip_byte(train(f)),
        ["train-00000-of-00001.parquet", "differs"],
    ),
    "deleted_validation": (
        lambda f: validation(f).unlink(),
        ["validation-00000-of-00001.parquet", "missing"],
    ),
    "emptied_rejected": (
        lambda f: (f / "rejected.parquet").write_bytes(b""),
        ["rejected.parquet", "differs"],
    ),
    "edited_card": (lambda f: (f / "README.md").write_text("hacked\n"), ["README.md", "differs"]),
    "edited_funnel": (lambda f: (f / "funnel.json").write_text("[]\n"), ["funnel.json", "differs"]),
    "edited_lock": (
        lambda f: (f / "manifest.json").write_text(
            (f / "manifest.json").read_text().replace('"seed": 1', '"seed": 2')
        ),
        ["manifest.json", "differs"],
    ),
    "corrupt_lock_unsealed": (
        lambda f: ((f / "manifest.sha256").unlink(), (f / "manifest.json").write_text("{not json")),
        ["manifest.json", "corrupt"],
    ),
    "deleted_lock": (lambda f: (f / "manifest.json").unlink(), ["manifest.json", "missing"]),
    "extra_shard": (
        lambda f: shutil.copy(train(f), f / "data" / "train-extra.parquet"),
        ["train-extra.parquet", "not in the lock"],
    ),
    "damaged_seal": (
        lambda f: (f / "manifest.sha256").write_text("garbage\n"),
        ["manifest.sha256", "line 1"],
    ),
    "deleted_plot": (
        lambda f: (f / "plots" / "funnel.png").unlink(),
        ["plots/funnel.png", "missing"],
    ),
    "forged_seal": (
        lambda f: (flip_byte(train(f)), reseal_with(f, train(f).relative_to(f).as_posix())),
        ["train-00000-of-00001.parquet", "disagree"],
    ),
    "truncated_train": (
        lambda f: train(f).write_bytes(train(f).read_bytes()[:100]),
        ["train-00000-of-00001.parquet"],
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_verify_names_the_first_damaged_file(case, workspace, capfd, tmp_path):
    victim = tmp_path / "victim" / "tiny"
    shutil.copytree(workspace.good, victim)
    damage, fragments = DAMAGE[case]
    damage(victim)
    outcome = run_cli(["verify", victim], capfd)
    judge(f"verify:{case}", outcome, fragments, workspace)


def test_verify_passes_on_the_good_mixture(workspace, capfd):
    outcome = run_cli(["verify", "tiny", "--output-dir", workspace.out], capfd)
    assert outcome.code == 0 and "match the lock" in outcome.out


@pytest.mark.parametrize(
    "target", [lambda tmp: tmp / "nothing", lambda tmp: tmp / "a-file"], ids=["absent", "a_file"]
)
def test_verify_of_no_mixture_is_one_line(target, workspace, capfd, tmp_path):
    (tmp_path / "a-file").write_text("x")
    path = target(tmp_path)
    outcome = run_cli(["verify", path], capfd)
    judge(f"verify:not_a_mixture:{path.name}", outcome, [path.name], workspace)


@pytest.mark.parametrize(
    "case", ["flipped_byte_in_train", "deleted_validation", "emptied_rejected"]
)
def test_build_check_fails_on_damage_before_rebuilding(case, workspace, capfd, tmp_path, mirror):
    checked = tmp_path / "checked"
    shutil.copytree(workspace.good, checked / "tiny")
    damage, fragments = DAMAGE[case]
    damage(checked / "tiny")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(GOOD_RECIPE)
    outcome = run_cli(
        ["build", recipe, "--check", "--output-dir", checked, "--mirror", mirror], capfd
    )
    judge(f"check:{case}", outcome, fragments, workspace)
    assert not [p for p in checked.iterdir() if p.name.startswith(".")]


# --- card --export -------------------------------------------------------------------------


def test_export_refuses_a_folder_with_someone_elses_readme(workspace, capfd, tmp_path):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "README.md").write_text("my own notes\n")
    outcome = run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", dest], capfd)
    judge("export:foreign_readme", outcome, ["README.md", "not an earlier export"], workspace)
    assert (dest / "README.md").read_text() == "my own notes\n"
    assert sorted(p.name for p in dest.iterdir()) == ["README.md"]


def test_export_writes_inside_a_folder_and_deletes_nothing(workspace, capfd, tmp_path):
    dest = tmp_path / "shared"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    outcome = run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", dest], capfd)
    assert outcome.code == 0, outcome.err
    assert (dest / "keep.txt").read_text() == "mine"
    assert (dest / "README.md").read_bytes() == (workspace.good / "README.md").read_bytes()
    assert oct(stat.S_IMODE((dest / "README.md").stat().st_mode)) == oct(0o666 & ~_umask())
    tally_judged("export:non_empty_folder_kept")


def test_export_again_updates_an_earlier_export(workspace, capfd, tmp_path):
    dest = tmp_path / "example"
    assert (
        run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", dest], capfd).code == 0
    )
    (dest / "plots" / "old.png").write_bytes(b"stale")
    assert (
        run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", dest], capfd).code == 0
    )
    assert not (dest / "plots" / "old.png").exists()
    tally_judged("export:again")


def test_export_dot_works_in_an_empty_folder(workspace, capfd, tmp_path, monkeypatch):
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    outcome = run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", "."], capfd)
    assert outcome.code == 0, outcome.err
    assert (here / "README.md").is_file()
    assert not [p for p in here.iterdir() if p.name.startswith(".")]
    tally_judged("export:dot")


def test_export_dot_in_a_folder_with_a_readme_is_refused(workspace, capfd, tmp_path, monkeypatch):
    here = tmp_path / "project"
    here.mkdir()
    (here / "README.md").write_text("project readme\n")
    (here / "code.py").write_text("print(1)\n")
    before = tree_digest(here)
    monkeypatch.chdir(here)
    outcome = run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", "."], capfd)
    judge("export:dot_refused", outcome, ["README.md"], workspace)
    assert tree_digest(here) == before


def test_export_to_a_file_is_one_line(workspace, capfd, tmp_path):
    target = tmp_path / "card.md"
    target.write_text("x")
    outcome = run_cli(["card", "tiny", "--output-dir", workspace.out, "--export", target], capfd)
    judge("export:to_a_file", outcome, ["card.md", "is a file"], workspace)
    assert target.read_text() == "x"


# --- card on damaged folders ---------------------------------------------------------------


def test_card_refresh_on_a_corrupt_lock_names_it(workspace, capfd, tmp_path):
    victim = tmp_path / "v" / "tiny"
    shutil.copytree(workspace.good, victim)
    (victim / "manifest.json").write_text("{oops")
    outcome = run_cli(["card", victim, "--refresh"], capfd)
    judge("card:corrupt_lock", outcome, ["manifest.json"], workspace)


def test_card_refresh_on_a_truncated_split_names_it(workspace, capfd, tmp_path):
    victim = tmp_path / "v" / "tiny"
    shutil.copytree(workspace.good, victim)
    train(victim).write_bytes(b"PAR1 not really")
    outcome = run_cli(["card", victim, "--refresh"], capfd)
    judge("card:truncated_split", outcome, ["train-00000-of-00001.parquet", "Parquet"], workspace)


def test_card_refresh_reseals_only_the_card(workspace, capfd, tmp_path):
    victim = tmp_path / "v" / "tiny"
    shutil.copytree(workspace.good, victim)
    assert run_cli(["card", victim, "--refresh"], capfd).code == 0
    assert run_cli(["verify", victim], capfd).code == 0
    flip_byte(victim / "funnel.json")
    run_cli(["card", victim, "--refresh"], capfd)
    assert run_cli(["verify", victim], capfd).code != 0  # a refresh does not bless damage
    tally_judged("card:refresh_reseal")


# --- disk full, permissions, stale temporaries, umask ---------------------------------------


def _umask() -> int:
    from instances.tempfiles import current_umask

    return current_umask()


def build_tiny(tmp_path, workspace, capfd, mirror, *extra: str):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(GOOD_RECIPE)
    return run_cli(
        ["build", recipe, "--output-dir", workspace.out, "--mirror", mirror, *extra], capfd
    )


def test_disk_full_while_writing_parquet(workspace, capfd, tmp_path, mirror, monkeypatch):
    import instances.io as io

    def full(table, where, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(where))

    monkeypatch.setattr(io.pq, "write_table", full)
    outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    judge("disk:enospc_parquet", outcome, ["no space left", ".parquet"], workspace)


def test_disk_full_while_writing_text(workspace, capfd, tmp_path, mirror, monkeypatch):
    import instances.checksums as checksums

    def full(folder, names):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "manifest.sha256"))

    monkeypatch.setattr(checksums, "render_seal", full)
    outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    judge("disk:enospc_seal", outcome, ["no space left", "manifest.sha256"], workspace)


def test_read_only_output_folder(workspace, capfd, tmp_path, mirror, monkeypatch):
    import instances.tempfiles as tempfiles

    def denied(prefix, suffix, dir):  # noqa: A002 - mkdtemp's own keyword
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(tempfiles.tempfile, "mkdtemp", denied)
    outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    judge("disk:read_only_out", outcome, ["permission denied", str(workspace.out)], workspace)


def test_rename_refused_keeps_the_earlier_mixture(workspace, capfd, tmp_path, mirror, monkeypatch):
    import instances.io as io

    real_replace = os.replace

    def refuse_final(src, dst):
        if Path(dst).name == "tiny" and ".tmp" in Path(src).name:
            raise PermissionError(errno.EACCES, "Permission denied", str(src), str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", refuse_final)
    outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    judge("disk:rename_refused", outcome, ["permission denied", "tiny"], workspace)


def test_read_only_mixture_is_replaced_without_leftovers(workspace, capfd, tmp_path, mirror):
    for path in [workspace.good / "data", workspace.good]:
        path.chmod(0o555)
    try:
        outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    finally:
        for path in [workspace.good, workspace.good / "data"]:
            if path.exists():
                path.chmod(0o755)
    assert outcome.code == 0, outcome.err[-2000:]
    assert not [p.name for p in workspace.out.iterdir() if p.name.startswith(".")]
    tally_judged("disk:read_only_old_mixture")


def test_stale_temporaries_of_dead_builds_are_removed(workspace, capfd, tmp_path, mirror):
    dead = 4_194_304 + 4242  # above Linux's largest pid_max: provably not a live process
    stale = [workspace.out / f".tiny.{dead}.abc.tmp", workspace.out / f".tiny.old-{dead}"]
    for path in stale:
        (path / "data").mkdir(parents=True)
        (path / "data" / "part.parquet").write_bytes(b"partial")
    live = workspace.out / f".tiny.{os.getpid()}.live.tmp"
    live.mkdir()
    outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    assert outcome.code == 0, outcome.err[-2000:]
    assert not any(path.exists() for path in stale)
    assert live.is_dir()  # its process (this one) is alive: not provably stale
    live.rmdir()
    tally_judged("temp:stale_removed")


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outputs_follow_the_umask(mask, workspace, capfd, tmp_path, mirror):
    old = os.umask(mask)
    try:
        outcome = build_tiny(tmp_path, workspace, capfd, mirror)
    finally:
        os.umask(old)
    assert outcome.code == 0, outcome.err[-2000:]
    modes = {stat.S_IMODE(p.stat().st_mode) for p in [workspace.good, *workspace.good.rglob("*")]}
    assert modes == {0o777 & ~mask, 0o666 & ~mask}
    tally_judged(f"umask:{oct(mask)}")


def test_push_to_an_unreachable_hub_is_one_line_without_the_token(
    workspace, capfd, monkeypatch, prefect_harness
):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "hf_SECRETtoken0123456789"
    from flows import publish

    # the upload is still retried (twice), without the 10 s waits between tries
    fast = publish.upload_task.with_options(retry_delay_seconds=0)
    assert fast.retries == publish.upload_task.retries
    monkeypatch.setattr(publish, "upload_task", fast)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_TOKEN", token)
    outcome = run_cli(["push", "tiny", "--output-dir", workspace.out, "--repo", "org/name"], capfd)
    judge("secrets:push_unreachable_hub", outcome, ["unreachable", str(port)], workspace, (token,))
