"""A small contextual text encoder over the prompt vocabulary.

A few pre-norm transformer layers turn word embeddings into one vector per token
position, so that, as in CLIP's text encoder, information about a concept word also
reaches the other tokens of its prompt, padding included. The UNet attends to all
``max_length`` token vectors without a mask.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import torch
from torch import nn

logger = logging.getLogger(__name__)

PAD, START = "<pad>", "<s>"


class PromptTokenizer:
    """Map prompts to token ids over a fixed vocabulary.

    A prompt is lower-cased, split on whitespace and punctuation, prefixed with ``<s>``
    and padded with ``<pad>`` to ``max_length``; the empty prompt is the null prompt of
    classifier-free guidance.

    Parameters
    ----------
    words : sequence of str
        The vocabulary, without the two special tokens.
    max_length : int
        Token positions per prompt, ``<s>`` included.

    Examples
    --------
    >>> tokenizer = PromptTokenizer(["a", "circle"], max_length=4)
    >>> tokenizer(["a circle"]).tolist()
    [[1, 2, 3, 0]]
    """

    def __init__(self, words: Sequence[str], max_length: int) -> None:
        self.words = (PAD, START, *words)
        self.max_length = max_length
        self.ids = {word: index for index, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def split(self, prompt: str) -> list[str]:
        """Return the words of ``prompt``.

        Raises
        ------
        ValueError
            If a word is outside the vocabulary or the prompt is too long.
        """
        words = re.findall(r"[a-z]+", prompt.lower())
        unknown = [w for w in words if w not in self.ids]
        if unknown:
            raise ValueError(
                f"word {unknown[0]!r} of prompt {prompt!r} is not in the text encoder's "
                f"vocabulary; use only these words: {', '.join(self.words[2:])}"
            )
        if len(words) + 1 > self.max_length:
            raise ValueError(
                f"prompt {prompt!r} has {len(words)} words; at most {self.max_length - 1} fit"
            )
        return words

    def __call__(self, prompts: Sequence[str]) -> torch.Tensor:
        """Return token ids of shape (len(prompts), max_length)."""
        rows = []
        for prompt in prompts:
            ids = [self.ids[START]] + [self.ids[w] for w in self.split(prompt)]
            rows.append(ids + [self.ids[PAD]] * (self.max_length - len(ids)))
        return torch.tensor(rows, dtype=torch.long)


class TextEncoder(nn.Module):
    """Token and position embeddings followed by pre-norm transformer layers.

    Parameters
    ----------
    vocab_size, max_length : int
        Sizes of the embedding tables.
    dim : int
        Width of every token vector; the UNet's ``cross_attention_dim``.
    layers, heads : int
        Depth and attention heads of the transformer.
    """

    def __init__(self, vocab_size: int, max_length: int, dim: int, layers: int, heads: int):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, dim)
        self.position_embedding = nn.Parameter(torch.zeros(max_length, dim))
        layer = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=2 * dim, dropout=0.0, batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(dim)
        nn.init.normal_(self.position_embedding, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Return token vectors of shape (batch, max_length, dim) for ids (batch, max_length)."""
        hidden = self.token_embedding(ids) + self.position_embedding
        return self.final_norm(self.transformer(hidden))
