"""`instructmix card` and `instructmix inspect` on a hand-written built folder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from data_cards.card import write_card
from data_cards.inspect import InspectError
from flows.cli import app
from instances import make_instance, make_table, write_parquet_atomic
from mixtures.folder import MixtureNotBuilt


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "tiny"
    rows = [
        make_instance(
            [
                {"role": "user", "content": f"Describe item {i}."},
                {"role": "assistant", "content": "word " * (i * 80)},
            ],
            source="alpha" if i % 2 else "beta",
            origin="human",
            task=f"task{i % 3}",
            category="cat",
            template="raw",
            meta={"license": "apache-2.0", "row": i},
        )
        for i in range(1, 7)
    ]
    write_parquet_atomic(make_table(rows), folder / "data" / "train-00000-of-00001.parquet")
    (folder / "funnel.json").write_text("[]")
    (folder / "manifest.json").write_text(json.dumps({"name": "tiny", "recipe": {"name": "tiny"}}))
    write_card(folder, "name: tiny\n", ["apache-2.0"])
    return tmp_path


def _run(*args):
    return CliRunner().invoke(app, list(args))


def test_card_prints_metadata_and_body(out):
    result = _run("card", "tiny", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert "license: apache-2.0" in result.output
    assert "Composition" in result.output and "Filter funnel" in result.output


def test_card_html_writes_a_page_beside_the_card(out):
    result = _run("card", "tiny", "--output-dir", str(out), "--html")
    assert result.exit_code == 0, result.output
    page = (out / "tiny" / "card.html").read_text()
    assert '<img src="plots/sources.png"' in page


def test_card_refresh_rerenders_from_the_locked_recipe(out):
    (out / "tiny" / "README.md").unlink()
    result = _run("card", "tiny", "--output-dir", str(out), "--refresh")
    assert result.exit_code == 0, result.output
    assert "name: tiny" in (out / "tiny" / "README.md").read_text()


def test_card_of_an_unbuilt_mixture_is_a_clear_error(out):
    result = _run("card", "nothing", "--output-dir", str(out))
    assert isinstance(result.exception, MixtureNotBuilt)
    assert "run `instructmix build nothing` first" in str(result.exception)


def test_inspect_filters_by_source_pages_and_shows_meta(out):
    args = ["inspect", "tiny", "--output-dir", str(out), "--source", "alpha", "--meta"]
    args += ["--limit", "2"]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert "3 kept rows match" in result.output and "showing 2 from row 1" in result.output
    assert "alpha / task" in result.output and "beta / task" not in result.output
    assert '"license": "apache-2.0"' in result.output
    result = _run(*args, "--offset", "2")
    assert "showing 1 from row 3" in result.output


def test_inspect_cuts_long_turns_unless_full(out):
    args = ["inspect", "tiny", "--output-dir", str(out), "--source", "beta", "--contains", "item 6"]
    cut = _run(*args, "--width", "100")
    assert cut.exit_code == 0, cut.output
    assert "1 kept rows match" in cut.output and cut.output.count("word") < 30
    assert _run(*args, "--full").output.count("word") == 480  # the whole 2,400-char answer


def test_inspect_counts_by_task(out):
    result = _run("inspect", "tiny", "--output-dir", str(out), "--by", "task")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "task" in line and "%" in line]
    assert len(lines) == 3


def test_inspect_unknown_category_names_the_known_ones(out):
    result = _run("inspect", "tiny", "--output-dir", str(out), "--category", "nope")
    assert isinstance(result.exception, InspectError)
    assert "known: cat" in str(result.exception)


def test_inspect_kept_only_options_are_refused_with_rejected(out):
    result = _run("inspect", "tiny", "--output-dir", str(out), "--rejected", "--split", "train")
    assert "apply to kept rows" in str(result.exception)


def test_card_export_copies_the_card_and_plots_only(out, tmp_path):
    dest = tmp_path / "examples" / "tiny"
    result = _run("card", "tiny", "--output-dir", str(out), "--export", str(dest))
    assert result.exit_code == 0, result.output
    names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert names[0] == "README.md" and names[1:] == sorted(
        f"plots/{p.name}" for p in (out / "tiny" / "plots").glob("*.png")
    )
    assert len(names) == 6
