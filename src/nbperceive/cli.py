"""Command line: ``nbperceive demo`` (train, record, report), ``nbperceive report RUN`` (the
static HTML report of a recorded run), ``nbperceive html NOTEBOOK`` (a notebook as one
offline HTML page, widgets included) and ``nbperceive info RUN``."""

from __future__ import annotations

import argparse
import os
import sys


def describe(run_dir: str | os.PathLike) -> str:
    """A short human summary of a run directory."""
    from .store import open_run

    run = open_run(run_dir)
    lines = [f"run {run.path}: epochs {run.epochs}"]
    if run.epochs:
        snap = run.snapshot()
        lines.append(f"  latest epoch {snap.epoch}: {len(snap.table)} samples, perception vectors "
                     f"{snap.vectors.shape[0]} x {snap.vectors.shape[1]} float32")
        lines.append("  layers: " + ", ".join(
            f"{b['name']}[{b['stop'] - b['start']}]" for b in snap.layout))
        lines.append("  table columns: " + ", ".join(snap.table.columns))
        hist = run.history()
        for row in hist.itertuples():
            acc = getattr(row, "probe_accuracy", float("nan"))
            lines.append(f"  epoch {row.epoch}: probe loss {row.probe_loss:.4f}, "
                         f"probe accuracy {acc:.3f}")
    return "\n".join(lines)


def demo(out_dir: str, epochs: int, n_probe: int, pictures: bool = True) -> int:
    """The headless pipeline: train, record, write pictures and the report, say where."""
    from .pipeline import run_demo

    paths = run_demo(out_dir, epochs=epochs, n_probe=n_probe, verbose=2, pictures=pictures)
    print(describe(paths["run"]))
    print("\nwritten:")
    for name, path in paths.items():
        print(f"  {name}: {path}")
    print(f"\nopen the run later with: nbp.open_run({str(paths['run'])!r})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbperceive", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="train a CNN on MNIST with the callback, report the run")
    p_demo.add_argument("--out", default="runs/demo", help="folder for the run and pictures")
    p_demo.add_argument("--epochs", type=int, default=3)
    p_demo.add_argument("--probe", type=int, default=1000, help="probe set size")
    p_demo.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")
    p_report = sub.add_parser("report", help="write the static HTML report of a run directory")
    p_report.add_argument("run_dir")
    p_report.add_argument("--out", default=None, help="HTML file (default: RUN_DIR/report.html)")
    p_report.add_argument("--model", default=None, help=".keras model, for heatmaps")
    p_report.add_argument("--inputs", default=None, help=".npy probe inputs, for heatmaps")
    p_report.add_argument("--title", default=None)
    p_html = sub.add_parser("html", help="a notebook as one HTML file whose widgets work offline")
    p_html.add_argument("notebook")
    p_html.add_argument("--out", default=None, help="HTML file (default: NOTEBOOK.html)")
    p_html.add_argument("--execute", action="store_true",
                        help="run the notebook first (in its folder) and store its widgets")
    p_info = sub.add_parser("info", help="summarise a run directory")
    p_info.add_argument("run_dir")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.out, args.epochs, args.probe, pictures=not args.no_pictures)
    from .errors import NbPerceiveError

    try:
        if args.command == "report":
            from pathlib import Path

            from .pipeline import write_report

            out = args.out or Path(args.run_dir) / "report.html"
            path = write_report(args.run_dir, out, args.model, args.inputs, args.title)
            print(f"report written: {path}")
        elif args.command == "html":
            from .notebook_html import save_notebook_html

            path = save_notebook_html(args.notebook, args.out, execute=args.execute)
            print(f"notebook page written: {path}")
        else:
            print(describe(args.run_dir))
    except (ValueError, NbPerceiveError) as err:
        print(f"nbperceive: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
