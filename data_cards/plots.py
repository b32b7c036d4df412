"""The card's plots, as PNG files beside it (matplotlib, Agg backend: no display needed).

Each function draws one figure from card statistics and writes it atomically (temp file +
rename). `write_plots` draws all of them into `folder/plots/` and returns their paths relative
to the folder, which is how the card links them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from mixtures.folder import PLOTS_DIR  # noqa: E402

DPI = 100
# PNG metadata without the matplotlib version, so equal data gives equal bytes across versions.
PNG_METADATA = {"Software": None}


def _save(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    os.close(handle)
    try:
        figure.savefig(tmp, dpi=DPI, bbox_inches="tight", metadata=PNG_METADATA)
        os.replace(tmp, path)
    finally:
        plt.close(figure)
        if os.path.exists(tmp):
            os.unlink(tmp)


def length_histograms(frame: pl.DataFrame, path: Path) -> None:
    """Distributions of prompt and response length per source (log bins): each bar is the
    share of its source's rows, so a 200-row source is as visible as a 50,000-row one.
    Lengths in tokens when the frame has token counts, else in characters."""
    unit = "tokens" if "prompt_tokens" in frame.columns else "chars"
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    sources = sorted(frame["recipe_source"].unique().to_list())
    for axis, title in zip(axes, ("prompt", "response"), strict=True):
        column = f"{title}_{unit}"
        values = frame[column].to_numpy()
        top = max(10.0, float(values.max()) if len(values) else 10.0)
        bins = np.logspace(0, np.log10(top + 1), 40)
        for source in sources:
            part = frame.filter(pl.col("recipe_source") == source)[column].to_numpy()
            label = f"{source} ({len(part):,} rows)"
            axis.hist(
                np.maximum(part, 1),
                bins=bins,
                weights=np.full(len(part), 1 / max(1, len(part))),
                histtype="step",
                linewidth=1.5,
                label=label,
            )
        axis.set_xscale("log")
        axis.set_xlabel(f"{title} length ({'tokens' if unit == 'tokens' else 'characters'}, log)")
        axis.set_ylabel("share of the source's rows")
        axis.set_title(f"{title} length per source")
    axes[1].legend(fontsize="small", loc="best")
    _save(figure, path)


def source_shares(composition: list[dict[str, Any]], path: Path) -> None:
    """Horizontal bars: each source's share of the mixture's rows."""
    names = [row["source"] for row in composition][::-1]
    shares = [100 * row["share"] for row in composition][::-1]
    figure, axis = plt.subplots(figsize=(8, 0.5 + 0.4 * max(1, len(names))))
    bars = axis.barh(names, shares, color="#4C72B0")
    axis.bar_label(bars, labels=[f"{s:.1f}%" for s in shares], padding=3, fontsize="small")
    axis.set_xlabel("share of rows (%)")
    axis.set_xlim(0, max(shares + [1]) * 1.15)
    axis.set_title("source shares")
    _save(figure, path)


def funnel(rows: list[dict[str, Any]], path: Path) -> None:
    """Per stage: rows in (grey) and rows out (green) on a log scale, so that a stage dropping
    a few rows of many still shows; each bar is labelled with what it dropped."""
    rows = rows[::-1]
    stages = [row["stage"] for row in rows]
    figure, axis = plt.subplots(figsize=(9, 0.6 + 0.45 * max(1, len(stages))))
    axis.barh(stages, [max(row["rows_in"], 1) for row in rows], color="#CCCCCC", label="in")
    axis.barh(stages, [max(row["rows_out"], 1) for row in rows], color="#55A868", label="out")
    for i, row in enumerate(rows):
        dropped = row["rows_in"] - row["rows_out"]
        share = dropped / row["rows_in"] if row["rows_in"] else 0.0
        note = f"  {row['rows_out']:,} of {row['rows_in']:,}"
        if dropped > 0:
            note += f" (-{dropped:,}, {100 * share:.2g}%)"
        else:
            note += f" (+{-dropped:,} copies)" if dropped else " (none dropped)"
        axis.text(max(row["rows_in"], 1), i, note, va="center", fontsize="x-small")
    axis.set_xscale("log")
    axis.set_xlabel("rows (log scale)")
    axis.set_title("filter funnel: rows in and out per stage")
    axis.set_xlim(1, max([row["rows_in"] for row in rows] + [10]) * 30)
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(figure, path)


def bars(rows: list[dict[str, Any]], title: str, path: Path) -> None:
    """Horizontal bars of a histogram (value, rows), most frequent on top."""
    labels = [str(row["value"])[:40] for row in rows][::-1]
    counts = [row["rows"] for row in rows][::-1]
    figure, axis = plt.subplots(figsize=(8, 0.5 + 0.3 * max(1, len(labels))))
    axis.barh(labels, counts, color="#8172B2")
    axis.set_xlabel("rows")
    axis.set_title(title)
    axis.tick_params(axis="y", labelsize="small")
    _save(figure, path)


def verb_bars(diversity: dict[str, Any], path: Path) -> None:
    """Most frequent leading verbs, each bar split by its top objects (Self-Instruct style)."""
    verbs = diversity["verbs"][::-1]
    figure, axis = plt.subplots(figsize=(8, 0.5 + 0.32 * max(1, len(verbs))))
    axis.barh([v["verb"] for v in verbs], [v["rows"] for v in verbs], color="#C44E52")
    for i, verb in enumerate(verbs):
        objects = ", ".join(o["object"] for o in verb["objects"][:3])
        axis.text(verb["rows"], i, f"  {objects}", va="center", fontsize="x-small")
    axis.set_xlabel("instructions")
    axis.set_title("leading verbs (and their top objects)")
    axis.margins(x=0.35)
    _save(figure, path)


def write_plots(folder: Path, data: dict[str, Any], frame: pl.DataFrame) -> dict[str, str]:
    """Draw every plot the card links into `folder/plots/`; return {name: relative path}."""
    jobs: dict[str, Callable[[Path], None]] = {
        "lengths": lambda p: length_histograms(frame, p),
        "sources": lambda p: source_shares(data["composition"], p),
        "funnel": lambda p: funnel(data["funnel"], p),
    }
    if data["strata"]["rows"]:
        title = f"rows per stratum ({data['strata'].get('plotted', 'category')})"
        jobs["strata"] = lambda p: bars(data["strata"]["rows"], title, p)
    if data["diversity"]["verbs"]:
        jobs["verbs"] = lambda p: verb_bars(data["diversity"], p)
    written = {}
    for name, draw in jobs.items():
        relative = f"{PLOTS_DIR}/{name}.png"
        draw(folder / relative)
        written[name] = relative
    return written
