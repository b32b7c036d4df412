"""Language identification (py3langid, whose model ships inside the package: no download) and a
filter on the languages a mixture allows.

Each row's language is the one identified from its text when the identifier is at least
`min_confidence` sure and the text has at least `min_chars` letters; otherwise the row's
declared `lang` stands. Rows whose language is not in `languages` are rejected with reason
`language_not_allowed`; kept rows get `lang` set to that language (with `set_lang`), and the
report counts rows per language and rows whose declared `lang` disagreed with the text.

Because it writes `lang`, this stage is a transform (the dispatcher checks it keeps every row
and then splits by its verdicts); with `set_lang: false` it changes nothing and only judges.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from tqdm.auto import tqdm

from filters.dispatch import Transformed, Verdicts
from filters.text import prompts_and_responses
from instances.context import StageContext

LANGUAGE_NOT_ALLOWED = "language_not_allowed"

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")


class Config(BaseModel):
    """Allowed languages and how sure identification must be to override the declared one."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["language"] = "language"
    languages: list[str] = Field(
        default_factory=lambda: ["en"], min_length=1, description="allowed ISO 639-1 codes"
    )
    text: Literal["prompt", "response", "prompt_response"] = Field(
        default="prompt", description="which text is identified (code blocks are left out)"
    )
    min_confidence: float = Field(
        default=0.8, ge=0, le=1, description="below this, the declared lang stands"
    )
    min_chars: int = Field(default=20, ge=1, description="fewer letters: keep the declared lang")
    max_chars: int = Field(default=600, ge=20, description="identify on this many characters")
    set_lang: bool = Field(default=True, description="write the identified language to `lang`")

    @field_validator("languages")
    @classmethod
    def _iso_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not re.fullmatch(r"[a-z]{2,3}", code)]
        if bad:
            raise ValueError(f"languages must be ISO 639-1 codes such as 'en'; got {bad}")
        return value


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str, max_chars: int = 600) -> tuple[str, float]:
    """The language code of `text` and the identifier's probability for it.

    >>> identify("Bonjour, comment allez-vous aujourd'hui ? Je voudrais un café.")[0]
    'fr'
    """
    language, probability = _identifier().classify(text[:max_chars])
    return str(language), float(probability)


def _texts(table: pa.Table, which: str) -> list[str]:
    prompts, responses = prompts_and_responses(table)
    if which == "prompt":
        chosen = prompts
    elif which == "response":
        chosen = responses
    else:
        chosen = [f"{p}\n\n{r}" for p, r in zip(prompts, responses, strict=True)]
    return [_CODE_BLOCK.sub(" ", text) for text in chosen]


def languages_of(
    table: pa.Table, config: Config, show_progress: bool = False
) -> tuple[list[str], int]:
    """The language of each row (identified, or declared when unsure) and how many disagreed."""
    declared = table.column("lang").to_pylist()
    texts = _texts(table, config.text)
    result, disagreed = [], 0
    for text, lang in tqdm(
        zip(texts, declared, strict=True),
        total=len(texts),
        desc="language id",
        disable=not show_progress,
    ):
        chosen = lang
        if len(_LETTER.findall(text[: config.max_chars])) >= config.min_chars:
            found, probability = identify(text, config.max_chars)
            if probability >= config.min_confidence:
                chosen = found
                disagreed += found != lang
        result.append(chosen)
    return result, disagreed


def transform(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Transformed:
    """Set `lang` to the identified language (with `set_lang`); judge rows not allowed.

    Columns read: messages, lang. Column written: lang (with `set_lang`). Verdicts: reason
    `language_not_allowed`, or None.
    """
    found, disagreed = languages_of(table, config, bool(ctx and ctx.show_progress))
    allowed = set(config.languages)
    reasons = [None if lang in allowed else LANGUAGE_NOT_ALLOWED for lang in found]
    if config.set_lang:
        position = table.schema.get_field_index("lang")
        table = table.set_column(
            position, table.schema.field(position), pa.array(found, pa.string())
        )
    counts = Counter(found)
    extras = {
        "languages": dict(counts.most_common()),
        "declared_disagreed": disagreed,
        "kept_languages": {lang: n for lang, n in counts.most_common() if lang in allowed},
    }
    return Transformed(table, Verdicts(reasons, extras=extras))
