"""The model card written beside a fine-tuned adapter (templates/finetune/model_card.md.j2).

A card travels with the adapter when it is shared (the Hugging Face hub shows README.md), so it
says what the adapter was trained on, with which settings, and how the losses went: enough to
judge and reproduce it without the training machine.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ccgen.resources import templates_dir


def data_summary(data: Path) -> dict[str, Any]:
    """Counts from the JSONL itself, plus ``ccgen dataset``'s summary.json when it is beside."""
    answers: Counter = Counter()
    kinds: Counter = Counter()
    reasoned = 0
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                answers[record.get("answer") or record.get("caption")] += 1
                kinds[record.get("kind") or "unknown"] += 1
                reasoned += bool(record.get("think") or record.get("semantic_elements"))
    summary = ""
    made = data.parent / "summary.json"
    if made.is_file():
        from ccgen.finetune.dataset import DatasetSummary

        try:
            summary = DatasetSummary(**json.loads(made.read_text(encoding="utf-8"))).line()
        except (TypeError, ValueError):
            summary = ""
    total = sum(answers.values())
    return {"file": data.name, "answers": answers.most_common(10), "kinds": dict(kinds),
            "summary": summary,
            "completions": f"{reasoned} of {total} with reasoning (think/semantic elements); "
                           "the rest have both parts empty"}


def epoch_losses(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean training loss per epoch (or per part of one, with --max-steps) and its validation."""
    losses, rows, start = record["train_losses"], [], 0
    per_epoch = record["settings"]["steps_per_epoch"]
    marks = [v["step"] for v in record["val_losses"]] or list(
        range(per_epoch, len(losses) + 1, per_epoch))
    if not marks or marks[-1] < len(losses):
        marks.append(len(losses))
    vals = {v["step"]: v["loss"] for v in record["val_losses"]}
    for end in marks:
        part = losses[start:end]
        if part:
            rows.append({"epoch": round(end / per_epoch, 2), "train": sum(part) / len(part),
                         "val": vals.get(end)})
        start = end
    return rows


def render_card(record: dict[str, Any], folder: str = "DIR") -> str:
    """README.md text for the adapter folder from training.json's `record`."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(templates_dir() / "finetune")),
                      keep_trailing_newline=True, undefined=StrictUndefined, autoescape=False)
    return env.get_template("model_card.md.j2").render(
        record=record, losses=epoch_losses(record), card={"folder": folder})
