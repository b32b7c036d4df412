"""Token counts after the chat template, their cache, and mixing by trainable tokens.

The tokenizer is a word-level one built here (every word one token, the ChatML markers one
token each), so every count below is a hand count of the rendered conversation.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from instances import make_instance, make_table
from mixtures.recipe import RecipeError, parse_recipe
from mixtures.sampling import recipe_sources, sample_recipe, tag_recipe_source
from mixtures.tokens import TokenCounter, count_conversations, has_generation_markers
from train.tiny import CHATML_TEMPLATE

ROWS = [
    # <s> user hello there </e> | <s> assistant general kenobi </e>
    [
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "general kenobi"},
    ],
    # <s> system be brief </e> | <s> user hi </e> | <s> assistant ok </e>
    [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "ok"},
    ],
    # <s> user a b </e> | <s> assistant c </e> | <s> user d </e> | <s> assistant e f </e>
    [
        {"role": "user", "content": "a b"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
        {"role": "assistant", "content": "e f"},
    ],
]
# (prompt, response, total, trainable), counted by hand from the comments above: the prompt
# ends with the generation prompt `<s> assistant`; trainable = the assistant words and their
# end-of-turn token, in every assistant turn.
HAND_COUNTS = [(7, 3, 10, 3), (11, 2, 13, 2), (15, 3, 18, 5)]


def word_tokenizer(template: str = CHATML_TEMPLATE):
    """A fast tokenizer: one token per word, ChatML markers as special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = "user assistant system hello there general kenobi be brief hi ok a b c d e f"
    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2, "<|pad|>": 3}
    vocab.update({word: index + 4 for index, word in enumerate(words.split())})
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="<|pad|>",
        eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = template
    return tokenizer


def table_of(conversations, source="s"):
    rows = [
        make_instance(m, source=source, origin="human", task="t", category="c", template="x")
        for m in conversations
    ]
    return tag_recipe_source(make_table(rows), source)


def as_tuples(counts: pa.Table) -> list[tuple[int, ...]]:
    names = ("prompt_tokens", "response_tokens", "total_tokens", "trainable_tokens")
    return list(zip(*(counts.column(n).to_pylist() for n in names), strict=True))


def test_counts_match_a_hand_count_with_generation_markers():
    tokenizer = word_tokenizer()
    assert has_generation_markers(tokenizer.chat_template)
    assert as_tuples(count_conversations(tokenizer, ROWS)) == HAND_COUNTS


def test_template_without_markers_counts_each_assistant_turn_by_prefix_renders():
    plain = CHATML_TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    tokenizer = word_tokenizer(plain)
    assert not has_generation_markers(plain)
    # the turn's text after the generation prompt, through its end-of-turn token: the same
    # tokens the markers enclose
    assert as_tuples(count_conversations(tokenizer, ROWS)) == HAND_COUNTS


def test_counts_are_cached_per_tokenizer_and_row_id(tmp_path):
    table = table_of(ROWS)
    first = TokenCounter("words", tmp_path, word_tokenizer())
    counts = first.count(table)
    assert first.counted == 3 and as_tuples(counts) == HAND_COUNTS
    assert counts.column("id").to_pylist() == table.column("id").to_pylist()
    cached = list((tmp_path / "tokens").glob("*.parquet"))
    assert len(cached) == 1
    again = TokenCounter("words", tmp_path, word_tokenizer())
    reordered = table.take(pa.array([2, 0, 1]))
    assert as_tuples(again.count(reordered)) == [HAND_COUNTS[2], HAND_COUNTS[0], HAND_COUNTS[1]]
    assert again.counted == 0  # every row came from the cache
    other = TokenCounter("words", tmp_path, word_tokenizer(CHATML_TEMPLATE + " "))
    other.count(table)
    assert other.counted == 3  # another template is another cache


def sized_pool(sizes: dict[str, list[int]]):
    """Rows per source with known trainable tokens (the row index is in its text)."""
    tables, tokens = [], {}
    for source, lengths in sizes.items():
        convs = [
            [{"role": "user", "content": f"{source} {i}"}, {"role": "assistant", "content": "x"}]
            for i in range(len(lengths))
        ]
        table = table_of(convs, source)
        tokens.update(dict(zip(table.column("id").to_pylist(), lengths, strict=True)))
        tables.append(table)
    return pa.concat_tables(tables), tokens


def recipe(sources, **extra):
    gen = {"kind": "existing", "dataset": "lima"}
    specs = [{"name": name, "generator": gen, **spec} for name, spec in sources.items()]
    return parse_recipe({"name": "t", "seed": 7, "sources": specs, **extra})


def drawn_tokens(table, tokens):
    per_source: Counter = Counter()
    for label, row_id in zip(recipe_sources(table), table.column("id").to_pylist(), strict=True):
        per_source[label] += tokens[row_id]
    return per_source


def test_tokens_amount_lands_within_one_row_of_its_target():
    rng = np.random.default_rng(0)
    table, tokens = sized_pool({"a": rng.integers(5, 200, 300).tolist(), "b": [10] * 50})
    spec = recipe({"a": {"tokens": 5000}, "b": {"count": 5}})
    sampled, reports = sample_recipe(table, spec, tokens)
    got = drawn_tokens(sampled, tokens)["a"]
    labels = zip(sampled["id"].to_pylist(), recipe_sources(sampled), strict=True)
    a_rows = [tokens[i] for i, s in labels if s == "a"]
    assert got >= 5000 and got - max(a_rows) < 5000  # whole rows, over by less than one row
    record = reports[0].extras["sources"]["a"]
    assert record["requested_tokens"] == 5000 and record["selected_tokens"] == got
    assert record["token_shortfall"] == 0
    again, _ = sample_recipe(table, spec, tokens)
    assert again["id"].to_pylist() == sampled["id"].to_pylist()  # seeded


def test_tokens_beyond_the_pool_repeat_rows_only_when_upsampling_is_allowed():
    table, tokens = sized_pool({"a": [10] * 20})  # 200 tokens available
    short, reports = sample_recipe(table, recipe({"a": {"tokens": 450}}), tokens)
    assert short.num_rows == 20 and reports[0].extras["sources"]["a"]["token_shortfall"] == 250
    long, reports = sample_recipe(table, recipe({"a": {"tokens": 450, "upsample": 3}}), tokens)
    assert sum(drawn_tokens(long, tokens).values()) == 450  # 45 rows of 10
    copies = [json.loads(m).get("upsample_copy", 0) for m in long["meta"].to_pylist()]
    assert Counter(copies) == {0: 20, 1: 20, 2: 5}
    capped, _ = sample_recipe(table, recipe({"a": {"tokens": 900, "upsample": 2}}), tokens)
    assert capped.num_rows == 40  # at most twice each row


def test_total_tokens_is_split_by_weights():
    table, tokens = sized_pool({"a": [10] * 500, "b": [25] * 500})
    spec = recipe({"a": {"weight": 3}, "b": {"weight": 1}}, total_tokens=4000)
    sampled, _ = sample_recipe(table, spec, tokens)
    assert drawn_tokens(sampled, tokens) == {"a": 3000, "b": 1000}


@pytest.mark.parametrize(
    ("sources", "extra", "message"),
    [
        ({"a": {"tokens": 10, "count": 3}}, {}, "not count and tokens"),
        ({"a": {"tokens": 10, "stratify": {"by": "task"}}}, {}, "does not stratify"),
        ({"a": {"count": 3}}, {"total_tokens": 100}, "give every source a weight"),
        ({"a": {"weight": 1}}, {"total_tokens": 100, "total": 5}, "leave out total"),
    ],
)
def test_token_amounts_are_validated_before_any_work(sources, extra, message):
    with pytest.raises(RecipeError, match=message):
        recipe(sources, **extra)


def test_a_tokens_recipe_builds_within_one_row_of_its_target(mirror, tmp_path):
    """A real build from the mirror, counted by a tokenizer the recipe names by local path."""
    import pyarrow.parquet as pq

    from instances.context import StageContext
    from mixtures.build import build_into
    from train.tiny import train_tokenizer

    folder = tmp_path / "tok"
    train_tokenizer(["hello world, how are you today?"] * 50, vocab_size=300).save_pretrained(
        folder
    )
    recipe = parse_recipe(
        {
            "name": "tok",
            "seed": 5,
            "tokenizer": str(folder),
            "sources": [
                {
                    "name": "lima",
                    "generator": {"kind": "existing", "dataset": "lima"},
                    "tokens": 20000,
                },
            ],
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    ctx = StageContext(mirror=mirror, seed=recipe.seed, cache_dir=tmp_path / "cache")
    result = build_into(recipe, ctx, out)
    locked = result.manifest["sources"]["lima"]
    counts = pq.read_table(out / "tokens.parquet")
    assert locked["rows"] == counts.num_rows
    trainable = counts["trainable_tokens"].to_pylist()
    assert locked["trainable_tokens"] == sum(trainable) >= 20000
    assert sum(trainable) - max(trainable) < 20000  # the last row reached it: within one row
    assert result.manifest["tokenizer"]["name"] == str(folder)


def test_a_template_that_refuses_a_role_is_one_clear_error(tmp_path):
    from mixtures.tokenizer import TokenizerError

    strict = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('no system') }}{% endif %}{{ m['content'] }}{% endfor %}"
    )
    counter = TokenCounter("strict", tmp_path, word_tokenizer(strict))
    with pytest.raises(TokenizerError, match="tokenizer 'strict': its chat template failed"):
        counter.count(table_of(ROWS))
