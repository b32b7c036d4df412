"""The card as a static HTML page (beside the card, so its plots load from plots/)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from markdown_it import MarkdownIt

from data_cards.card import TEMPLATES, CardError
from data_cards.metadata import split_front_matter
from instances.io import write_text_atomic
from mixtures.folder import MixtureFolder

HTML_NAME = "card.html"


def card_html(card: str, title: str) -> str:
    """A standalone HTML page of the card's Markdown (CommonMark + tables), metadata shown."""
    metadata, body = split_front_matter(card)
    # html=True keeps the card's <details> blocks; row text is inside code fences (escaped).
    markdown = MarkdownIt("commonmark", {"html": True}).enable("table")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template("card.html.j2").render(
        title=title, metadata=metadata, body=markdown.render(body)
    )


def write_card_html(folder: Path) -> Path:
    """Write `folder/card.html` from `folder/README.md`; return its path."""
    readme = MixtureFolder(Path(folder)).card_path
    if not readme.is_file():
        raise CardError(f"{readme}: no card; build the mixture (instructmix build) first")
    page = card_html(readme.read_text(encoding="utf-8"), folder.name)
    return write_text_atomic(page, folder / HTML_NAME)
