"""Pre-flight check: token lengths, truncation and loss-less rows match a hand count and TRL."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from instances import make_instance, make_table, write_parquet_atomic
from train.data import TrainDataError, load_mixture
from train.packing import bfd_bins, packing_estimate
from train.preflight import (
    EMPTY_ASSISTANT_MASK,
    NO_CHAT_TEMPLATE,
    NO_GENERATION_MARKERS,
    NO_LOSS_TOKENS,
    TRUNCATED,
    preflight,
)
from train.spec import TrainSpec

# One token per whitespace-separated word; each turn renders as "role: content <eos> ", so a turn
# costs 1 (role) + words + 1 (<eos>) tokens and the assistant's words + <eos> carry the loss.
TEMPLATE = (
    "{%- for m in messages -%}{{ m['role'] + ': ' }}"
    "{%- if m['role'] == 'assistant' -%}"
    "{% generation %}{{ m['content'] + ' <eos> ' }}{% endgeneration %}"
    "{%- else -%}{{ m['content'] + ' <eos> ' }}{%- endif -%}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'assistant: ' }}{%- endif -%}"
)
NO_MARKERS = TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", "")

U, A, S = "user", "assistant", "system"
# (turns, hand-counted length, first loss position for assistant_only)
ROWS = [
    ([(U, "a b"), (A, "c")], 7, 5),
    ([(U, "a b c"), (A, "d e f")], 10, 6),
    ([(U, "a b c d e f g"), (A, "h")], 12, 10),  # prompt alone fills max_length: no loss
    ([(S, "s"), (U, "a"), (A, "b c")], 10, 7),
    ([(U, "a"), (A, "b c d")], 8, 4),  # exactly max_length: not truncated
    ([(U, "x"), (A, "y"), (U, "z"), (A, "w")], 12, 4),
]
MAX_LENGTH = 8
# Hand count against MAX_LENGTH: rows 2, 3, 4 and 6 are longer (by 2 + 4 + 2 + 4 tokens);
# row 3's first loss token sits at position 10 >= 8; with completion_only, row 6's loss starts
# at its last "assistant:" + 1 = 10, so it keeps no loss token either.
TRUNCATED_ROWS, TRUNCATED_TOKENS = 4, 12
NO_LOSS_ASSISTANT, NO_LOSS_COMPLETION = 1, 2


def word_tokenizer(template: str | None = TEMPLATE):
    """A word-level tokenizer over the fixture's words: token counts are word counts."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<unk>", "<pad>", "<eos>", "user:", "assistant:", "system:"]
    words += list("abcdefghswxyz")
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>"
    )
    tokenizer.chat_template = template
    return tokenizer


def write_mixture(folder: Path, rows: list[dict], validation: list[dict] | None = None) -> Path:
    """Write rows as a built mixture's data/ folder (the layout `instructmix build` writes)."""
    write_parquet_atomic(make_table(rows), folder / "data" / "train-00000-of-00001.parquet")
    if validation:
        write_parquet_atomic(
            make_table(validation), folder / "data" / "validation-00000-of-00001.parquet"
        )
    return folder


def fixture_rows() -> list[dict]:
    return [
        make_instance(
            [{"role": r, "content": c} for r, c in turns],
            source="fixture",
            origin="human",
            task="t",
            category="c",
            template="raw",
        )
        for turns, _, _ in ROWS
    ]


@pytest.fixture
def mixture(tmp_path: Path) -> Path:
    return write_mixture(tmp_path / "mix", fixture_rows())


def test_truncation_matches_hand_count(mixture: Path) -> None:
    spec = TrainSpec(max_length=MAX_LENGTH, per_device_batch_size=2)
    report = preflight(load_mixture(mixture, spec.loss), word_tokenizer(), spec)
    assert report.lengths.rows == len(ROWS)
    assert report.lengths.tokens == sum(length for _, length, _ in ROWS)
    assert (report.lengths.min, report.lengths.max) == (7, 12)
    assert report.truncated_rows == TRUNCATED_ROWS
    assert report.truncated_tokens == TRUNCATED_TOKENS
    assert report.rows_without_loss == NO_LOSS_ASSISTANT
    assert sorted(i.code for i in report.issues) == sorted([TRUNCATED, NO_LOSS_TOKENS])
    assert not report.blocking
    assert "4 rows truncated" in report.render()


def test_completion_only_moves_the_loss_to_the_last_turn(mixture: Path) -> None:
    spec = TrainSpec(max_length=MAX_LENGTH, loss="completion_only")
    data = load_mixture(mixture, spec.loss)
    assert data.format == "prompt_completion" and data.source_format == "messages"
    report = preflight(data, word_tokenizer(), spec)
    assert report.truncated_rows == TRUNCATED_ROWS
    assert report.rows_without_loss == NO_LOSS_COMPLETION


def test_preflight_predicts_what_trl_keeps(mixture: Path, tmp_path: Path) -> None:
    """TRL's own preparation keeps the rows the pre-flight says keep a loss token, cut to 8."""
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTTrainer

    from train.config import to_sft_config

    tokenizer = word_tokenizer()
    spec = TrainSpec(max_length=MAX_LENGTH, max_steps=1)
    data = load_mixture(mixture, spec.loss)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
    )
    trainer = SFTTrainer(
        model=LlamaForCausalLM(config),
        args=to_sft_config(
            spec, output_dir=tmp_path / "out", seed=0, data_format=data.format, cuda=False
        ),
        train_dataset=data.train,
        processing_class=tokenizer,
    )
    kept = [len(ids) for ids in trainer.train_dataset["input_ids"]]
    expected = [min(n, MAX_LENGTH) for _, n, first in ROWS if first < MAX_LENGTH]
    assert kept == expected


def test_markerless_template_blocks_assistant_only_with_a_fix(mixture: Path) -> None:
    data = load_mixture(mixture, "assistant_only")
    report = preflight(data, word_tokenizer(NO_MARKERS), TrainSpec(max_length=MAX_LENGTH))
    assert [i.code for i in report.blocking] == [NO_GENERATION_MARKERS]
    assert "chat_template: chatml" in report.blocking[0].message
    assert report.truncated_rows == TRUNCATED_ROWS  # lengths are still measured
    ok = preflight(data, word_tokenizer(NO_MARKERS), TrainSpec(max_length=8, loss="all"))
    assert not ok.blocking and ok.rows_without_loss == 0


def test_missing_template_blocks(mixture: Path) -> None:
    data = load_mixture(mixture, "all")
    report = preflight(data, word_tokenizer(None), TrainSpec(max_length=8, loss="all"))
    assert [i.code for i in report.blocking] == [NO_CHAT_TEMPLATE]


def test_template_that_marks_nothing_blocks(mixture: Path) -> None:
    empty = NO_MARKERS + "{% generation %}{% endgeneration %}"  # markers around nothing
    data = load_mixture(mixture, "assistant_only")
    report = preflight(data, word_tokenizer(empty), TrainSpec())
    assert [i.code for i in report.blocking] == [EMPTY_ASSISTANT_MASK]


def test_bfd_matches_trl_packing() -> None:
    from datasets import Dataset
    from trl.data_utils import pack_dataset

    assert bfd_bins([5, 4, 3, 3, 1], 8) == 2  # 5+3, 4+3+1
    lengths = [7, 1, 12, 3, 3, 5, 8, 2, 6, 4, 4, 9, 1, 1]
    rows = Dataset.from_dict({"input_ids": [[1] * n for n in lengths]})
    packed = pack_dataset(rows, seq_length=8, strategy="bfd")
    assert bfd_bins(lengths, 8) == len(packed)
    estimate = packing_estimate(lengths, max_length=8, batch_size=4)
    assert estimate.packed_sequences == len(packed)
    assert estimate.expected_speedup >= 1.0


def test_bad_mixture_rows_are_named(tmp_path: Path) -> None:
    rows = fixture_rows()
    rows[2]["messages"] = [{"role": "user", "content": "no answer"}]
    folder = write_mixture(tmp_path / "bad", rows)
    with pytest.raises(TrainDataError, match=r"train-00000-of-00001.parquet: row 2: .*assistant"):
        load_mixture(folder)
    other = tmp_path / "other" / "data" / "train-00000-of-00001.parquet"
    write_parquet_atomic(pa.table({"text": ["hello"]}), other)
    with pytest.raises(TrainDataError, match=r"'messages' column or 'prompt' and 'completion'"):
        load_mixture(other.parent.parent)
    with pytest.raises(TrainDataError, match="instructmix build"):
        load_mixture(tmp_path / "absent")


def test_prompt_completion_mixture_as_the_build_writes_it(tmp_path: Path) -> None:
    from mixtures.build import to_prompt_completion

    table = to_prompt_completion(make_table(fixture_rows()))
    write_parquet_atomic(table, tmp_path / "pc" / "data" / "train-00000-of-00001.parquet")
    spec = TrainSpec(max_length=MAX_LENGTH, loss="completion_only")
    data = load_mixture(tmp_path / "pc", spec.loss)
    assert data.format == data.source_format == "prompt_completion" and data.conversational
    report = preflight(data, word_tokenizer(), spec)
    assert (report.truncated_rows, report.truncated_tokens) == (TRUNCATED_ROWS, TRUNCATED_TOKENS)
    assert report.rows_without_loss == NO_LOSS_COMPLETION


def test_parallel_measurement_matches_the_serial_one(mixture: Path) -> None:
    from train.preflight import measure_rows

    data = load_mixture(mixture, "assistant_only")
    serial = measure_rows(data.train, word_tokenizer(), "assistant_only", num_proc=1)
    assert serial == [(length, first) for _, length, first in ROWS]
    assert measure_rows(data.train, word_tokenizer(), "assistant_only", num_proc=2) == serial
