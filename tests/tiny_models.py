"""A tiny randomly initialised BERT classifier and its WordPiece tokenizer, built in a test."""

from __future__ import annotations

from pathlib import Path


def tiny_classifier(folder: Path, texts: list[str]) -> Path:
    """A randomly initialised one-label BERT classifier and its WordPiece tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words += sorted({w.strip(".,;!?").lower() for text in texts for w in text.split()} - {""})
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(words)})
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=1,
    )
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
