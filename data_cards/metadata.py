"""The card's Hub metadata, built with `huggingface_hub.DatasetCardData` (not hand-dumped YAML),
and the two renderings of a card that are not the Hub's: the Prefect artifact and the pushed
card's load snippet.

    >>> pretty_name("tulu-human-gpt")
    'Tulu Human GPT (instructmix mixture)'
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCardData

from instances.io import write_text_atomic

ACRONYMS = {"t0": "T0", "flan": "FLAN", "lima": "LIMA", "ni": "NI", "gpt": "GPT", "tulu": "Tulu"}
# The origin of rows -> the Hub's annotations_creators vocabulary.
CREATORS = {
    "human": "expert-generated",
    "crowdsourced_schema": "crowdsourced",
    "public_task": "found",
    "self_instruct": "machine-generated",
    "distilled": "machine-generated",
}
LICENSE_LINK = "README.md#licensing"  # the per-source license table of the card itself
PLACEHOLDER_ORG = "ORG"
# The front-matter key holding the mixture (recipe) name: `card --export` recognises its own
# earlier export by it (the `pretty_name` is a display title and may change).
MIXTURE_KEY = "instructmix_mixture"


def pretty_name(name: str) -> str:
    """A readable title for a recipe name (acronyms kept, words capitalised)."""
    words = [ACRONYMS.get(w.lower(), w.capitalize()) for w in re.split(r"[-_\s]+", name) if w]
    return " ".join(words) + " (instructmix mixture)"


def card_metadata(
    name: str,
    splits: dict[str, int],
    license_info: dict[str, Any],
    languages: list[str],
    origins: list[str],
    source_datasets: list[str],
    size_category: str,
) -> DatasetCardData:
    """The Hub metadata of a mixture card: license (and license_link when `other`), languages,
    sizes, creators, task categories, source datasets, tags and the data files per split."""
    ids = license_info["ids"] or ["other"]
    languages = languages or ["en"]
    extra: dict[str, Any] = {}
    if "other" in ids:
        extra.update(license_name="mixture-of-source-licenses", license_link=LICENSE_LINK)
    return DatasetCardData(
        pretty_name=pretty_name(name),
        license=ids[0] if len(ids) == 1 else ids,
        language=languages,
        multilinguality="monolingual" if len(languages) == 1 else "multilingual",
        annotations_creators=sorted({CREATORS.get(o, "other") for o in origins}) or ["other"],
        language_creators=["found"],
        size_categories=[size_category],
        source_datasets=source_datasets,
        task_categories=["text-generation", "question-answering"],
        tags=["instruction-tuning", "sft", "instructmix"]
        + (["non-commercial"] if license_info["non_commercial"] else []),
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*"} for s in sorted(splits)],
            }
        ],
        **{MIXTURE_KEY: name},
        **extra,
    )


def split_front_matter(card: str) -> tuple[str, str]:
    """(YAML metadata, Markdown body) of a card; metadata is "" when the card has none.

    >>> split_front_matter("---\\na: 1\\n---\\n# T\\n")
    ('a: 1', '# T\\n')
    """
    if card.startswith("---\n"):
        end = card.find("\n---\n", 4)
        if end != -1:
            return card[4:end], card[end + 5 :]
    return "", card


def artifact_markdown(card: str, folder: Path) -> str:
    """The card as Prefect's UI should show it: the body, the Hub metadata as a YAML code
    block at the end (not front matter, which the UI renders as headings), and the plots
    embedded as data URIs (the UI cannot read files beside the card)."""
    metadata, body = split_front_matter(card)

    def embed(match: re.Match) -> str:
        path = Path(folder) / match.group(2)
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"![{match.group(1)}](data:image/png;base64,{data})"

    plots = sorted(set(re.findall(r"!\[[^\]]*\]\((plots/[^)\s]+\.png)\)", body)))
    body = re.sub(r"!\[([^\]]*)\]\((plots/[^)\s]+\.png)\)", embed, body)
    if plots:  # the UI is local: the files themselves, should it not show data URIs
        links = [f"- [{p}]({(Path(folder) / p).resolve().as_uri()})" for p in plots]
        body += "\n## Plot files\n\n" + "\n".join(links) + "\n"
    if metadata:
        body += f"\n## Hub metadata\n\n```yaml\n{metadata.strip()}\n```\n"
    return body


LOAD_LINE = re.compile(
    r'load_dataset\("' + PLACEHOLDER_ORG + r'/[^"]+"\)(\s*)# from the Hub, once pushed'
)


def stamp_repo_id(folder: Path, repo_id: str) -> bool:
    """Put the real Hub repository in the card's load snippet (`ORG/<name>` before a push).

    Returns True when README.md changed.
    """
    readme = Path(folder) / "README.md"
    text = readme.read_text(encoding="utf-8")
    stamped = LOAD_LINE.sub(lambda m: f'load_dataset("{repo_id}"){m.group(1)}# from the Hub', text)
    if stamped == text:
        return False
    write_text_atomic(stamped, readme)
    return True
