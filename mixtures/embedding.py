"""Row embeddings for diversity: hashed n-gram TF-IDF + randomized SVD, or an encoder model.

Every embedding is L2-normalised, so a dot product is the cosine similarity. The default
needs no download and is deterministic for a seed: hashing has no vocabulary to fit, and
the SVD's random state is the seed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.text import match_texts
from mixtures.selection_spec import EmbeddingSpec


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def hashed_tfidf(texts: list[str], spec: EmbeddingSpec, seed: int) -> np.ndarray:
    """`texts` as unit vectors of at most `spec.dims` dimensions (hashed TF-IDF, then SVD).

    With no more rows than dimensions the rows are embedded exactly (through their Gram
    matrix), so cosine similarities equal those of the TF-IDF vectors.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    if not texts:
        return np.zeros((0, spec.dims), dtype=np.float32)
    hashed = HashingVectorizer(
        n_features=spec.features,
        ngram_range=(spec.ngram_min, spec.ngram_max),
        alternate_sign=False,
        norm=None,
    ).transform(texts)
    weighted = TfidfTransformer(sublinear_tf=True).fit_transform(hashed)
    if len(texts) <= spec.dims:
        gram = (weighted @ weighted.T).toarray()
        values, vectors = np.linalg.eigh(gram)
        reduced = vectors * np.sqrt(np.clip(values, 0.0, None))
    else:
        svd = TruncatedSVD(n_components=spec.dims, algorithm="randomized", random_state=seed)
        reduced = svd.fit_transform(weighted)
    return _unit_rows(np.asarray(reduced, dtype=np.float64))


def encoder(texts: list[str], spec: EmbeddingSpec) -> np.ndarray:
    """`texts` as unit vectors from `spec.model`: sentence-transformers if installed, else a
    transformers encoder with mean pooling over the attention mask."""
    assert spec.model is not None
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return _mean_pooled(texts, spec)
    model = SentenceTransformer(spec.model, device="cpu")
    vectors = model.encode(texts, batch_size=spec.batch_size, show_progress_bar=False)
    return _unit_rows(np.asarray(vectors, dtype=np.float64))


def _mean_pooled(texts: list[str], spec: EmbeddingSpec) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(spec.model)
    model = AutoModel.from_pretrained(spec.model).eval()
    parts = []
    with torch.no_grad():
        for start in range(0, len(texts), spec.batch_size):
            batch = tokenizer(
                texts[start : start + spec.batch_size],
                truncation=True,
                max_length=512,
                padding=True,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            parts.append(pooled.float().numpy())
    stacked = np.concatenate(parts) if parts else np.zeros((0, 1))
    return _unit_rows(stacked.astype(np.float64))


def embed_table(table: pa.Table, spec: EmbeddingSpec, seed: int) -> np.ndarray:
    """One unit vector per row of `table`, from its prompt (or prompt and response)."""
    texts = match_texts(table, spec.text)
    if spec.kind == "encoder":
        return encoder(texts, spec)
    return hashed_tfidf(texts, spec, seed)
