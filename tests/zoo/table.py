"""The model x step table of the zoo test (✔ / ✖ with the message)."""

from __future__ import annotations

STEPS = ["perceiver+fit", "open_run", "project", "suspects", "explain", "inspector",
         "explorer", "save_html"]
RESULTS: dict[str, dict[str, str]] = {}


def render() -> str:
    width = max((len(k) for k in RESULTS), default=10)
    lines = [" | ".join(["model / task".ljust(width), *STEPS])]
    notes = []
    for name, steps in RESULTS.items():
        cells = []
        for step in STEPS:
            mark = steps.get(step, "-")
            cells.append((mark[:1] if mark else "-").ljust(len(step)))
            if len(mark) > 1:
                notes.append(f"  {name} / {step}: {mark[2:]}")
        lines.append(" | ".join([name.ljust(width), *cells]))
    return "\n".join(lines + notes)
