"""How well, and how fast, records.redaction takes personal data out of caller lines.

Run: ``.venv/bin/python -m bench.redaction`` (a second or two). Over the labelled set
``tests/data/redaction_set.jsonl`` (tests/tools/make_redaction_set.py): recall per kind
(an item counts as caught when its exact text is gone from the output), precision (share
of redacted spans that overlap a labelled item), the share of clean lines altered, and
the time per line. Writes ``bench/results/redaction.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import ROOT, percentile, write_result
from records.redaction import IDENTIFIER_KINDS, redact

SET = ROOT / "tests" / "data" / "redaction_set.jsonl"


def load(path: Path = SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    true_spans = false_spans = 0
    clean = altered = 0
    misses: list[dict[str, str]] = []
    false_alarms: list[dict[str, str]] = []
    times: list[float] = []
    for row in rows:
        text, language = row["text"], row["language"]
        started = time.perf_counter()
        out = redact(text, language)
        times.append(time.perf_counter() - started)
        if not row["items"]:
            clean += 1
            if out.text != text:
                altered += 1
                false_alarms.append({"text": text, "out": out.text})
            false_spans += len(out.found)
            continue
        for item in row["items"]:
            total[item["kind"]] += 1
            if item["text"] in out.text:
                misses.append({"kind": item["kind"], "text": text, "out": out.text})
            else:
                caught[item["kind"]] += 1
        labelled = [
            (text.index(i["text"]), text.index(i["text"]) + len(i["text"])) for i in row["items"]
        ]
        for _kind, (start, end) in out.found:
            if any(start < e and s < end for s, e in labelled):
                true_spans += 1
            else:
                false_spans += 1
                false_alarms.append({"text": text, "out": out.text})
    ident_total = sum(total[k] for k in IDENTIFIER_KINDS)
    ident_caught = sum(caught[k] for k in IDENTIFIER_KINDS)
    times_us = sorted(t * 1e6 for t in times)
    return {
        "lines": len(rows),
        "lines_with_personal_data": len(rows) - clean,
        "clean_lines": clean,
        "items": sum(total.values()),
        "recall_by_kind": {k: round(caught[k] / total[k], 4) for k in sorted(total)},
        "items_by_kind": dict(sorted(total.items())),
        "recall_identifiers": round(ident_caught / ident_total, 4) if ident_total else None,
        "recall_names": round(caught["name"] / total["name"], 4) if total["name"] else None,
        "recall_all": round(sum(caught.values()) / sum(total.values()), 4),
        "precision": round(true_spans / (true_spans + false_spans), 4)
        if true_spans + false_spans
        else None,
        "clean_altered_rate": round(altered / clean, 4) if clean else None,
        "per_line_us_mean": round(statistics.fmean(times_us), 1),
        "per_line_us_p95": round(percentile(times_us, 95) or 0.0, 1),
        "misses": misses,
        "false_alarms": false_alarms,
    }


def main() -> None:
    rows = load()
    score(rows)  # warm-up: regex compilation, phonenumbers metadata
    result = score(rows)
    result["set"] = str(SET.relative_to(ROOT))
    out = write_result("redaction", result)
    keep = ("recall_identifiers", "recall_names", "precision", "clean_altered_rate",
            "per_line_us_mean", "per_line_us_p95")  # fmt: skip
    print(json.dumps({k: result[k] for k in keep}, indent=2))
    print(f"{len(result['misses'])} misses, {len(result['false_alarms'])} false alarms → {out}")


if __name__ == "__main__":
    main()
