"""The model x step table of the zoo test (✔ / ✖ with the message)."""

from __future__ import annotations

from pathlib import Path

STEPS = ["perceiver+fit", "open_run", "project", "suspects", "explain", "inspector",
         "explorer", "save_html"]
# the table of the last run, written by the session that ran the zoo (tests/zoo/conftest.py)
ARTEFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "zoo-table.txt"
RESULTS: dict[str, dict[str, str]] = {}
SECONDS: dict[str, dict[str, float]] = {}  # wall time of each step (the zoo's time budget)


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
    times = [f"  {name}: " + ", ".join(f"{step} {t:.1f} s" for step, t in steps.items())
             for name, steps in SECONDS.items()]
    return "\n".join(lines + notes + (["seconds per step:", *times] if times else []))
