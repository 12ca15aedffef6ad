"""The ``ics-abm`` command.

    ics-abm compare [--out DIR] [--replicates N] [--months N] [--set NAME=VALUE ...] [--metrics A,B]
                    [--seeds-only] [--workers N] [--max-runs N]
    ics-abm calibrate [--quick] [--out DIR] [--workers N] [--seed S]
    ics-abm sweep EXPERIMENT.toml [--out DIR] [--set NAME=VALUE ...] [--replicates N] [--months N]
                  [--metrics A,B] [--workers N] [--scheduler ADDRESS|local] [--max-runs N]
    ics-abm discover EXPERIMENT.toml|DIR [--metric M] [--better R] [--worse R] [--out DIR] ...
    ics-abm rerun DIR RUN_ID
    ics-abm report DIR [--metrics A,B]
    ics-abm viz [--port N] [--host H]

Exit status: 0 done, 1 a rerun did not match, 2 bad input (nothing written) or
a sweep stopped by an error such as a full disk (stored runs are kept), 130
interrupted (stored runs are kept: run the same command again to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is empty; give a folder path")
    return text


def _add_backend(p: argparse.ArgumentParser) -> None:
    from .runner import MAX_RUNS

    p.add_argument("--max-runs", type=_positive, default=MAX_RUNS,
                   help="refuse an experiment that plans more runs than this (default: %(default)s)")
    p.add_argument("--workers", type=_positive, default=_cpus(),
                   help="worker processes (default: the number of CPUs, %(default)s here)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a local Dask cluster "
                        "(needs the 'dask' extra). This process unpickles the results the cluster sends back, "
                        "so name only a scheduler you trust")
    p.add_argument("--batch-size", type=_positive, default=None,
                   help="runs per task (default: about 8 tasks per worker, at most 16 runs each)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_overrides(p: argparse.ArgumentParser, replicates_default: int | None = None,
                   months_default: int | None = None) -> None:
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a model parameter for every run (repeatable), e.g. --set pressure=0.7 "
                        "--set oversight_intensity=0.5; see `python -m abm.parameters`")
    if replicates_default is None:
        p.add_argument("--replicates", type=_positive, help="replicates per design point (default: the file's)")
        p.add_argument("--months", type=_positive, help="months per run (default: the file's)")


def _add_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics", metavar="A,B,...",
                   help="metrics to summarise (comma-separated; 'all' for every metric the model collects; "
                        "default: the headline metrics)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ics-abm",
        description="Collaboration, turf and trust in England's Integrated Care Systems under accountability "
                    "regimes: batch experiments and reports. Start with `ics-abm compare`.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("compare", help="every regime preset on the default ICS, with 95%% CIs and differences",
                       description="Run every regime preset on the default ICS (common random numbers: replicate r "
                                   "has the same seed under every regime), print a summary table, and write a results "
                                   "store and report.html.")
    p.add_argument("--out", type=_folder, default="results/compare", help="results folder (default: %(default)s)")
    p.add_argument("--replicates", type=_positive, default=30, help="replicates per regime (default: %(default)s)")
    p.add_argument("--months", type=_positive, default=120, help="months per run (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default: %(default)s)")
    p.add_argument("--seeds-only", action="store_true",
                   help="every replicate runs the table's defaults (intervals cover seed noise only); by default, once "
                        "a calibration posterior exists, replicate r draws its parameters from it, the same draw "
                        "under every regime")
    _add_overrides(p, 30, 120)
    _add_metrics(p)
    _add_backend(p)

    from .calibration_cli import add_calibrate_parser
    add_calibrate_parser(sub)

    p = sub.add_parser("sweep", help="run an experiment file (TOML)",
                       description="Run the experiment described in a TOML file (see experiments/*.toml). Runs already "
                                   "in --out are kept and skipped, so an interrupted sweep resumes.")
    p.add_argument("experiment", help="experiment file, e.g. experiments/oversight_sweep.toml")
    p.add_argument("--out", type=_folder, help="results folder (default: results/<experiment name>)")
    _add_overrides(p)
    _add_metrics(p)
    _add_backend(p)

    p = sub.add_parser("discover", help="scenario discovery: when does one regime beat another? (PRIM, CART)",
                       description="Run (or read) a sampled experiment in which every sampled point runs under both "
                                   "regimes with the same seeds, and find with EMA Workbench's PRIM and CART the "
                                   "conditions under which --better beats --worse on --metric. The boxes are fitted "
                                   "on half the scenarios and checked on the other half; the result goes into "
                                   "report.html.")
    p.add_argument("source", help="an experiment file (run first, e.g. experiments/topdown_vs_permissive.toml) "
                                  "or a results folder that holds one")
    p.add_argument("--out", type=_folder, help="results folder when running a file (default: results/<experiment name>)")
    p.add_argument("--metric", default="system_outcome", help="outcome to compare (default: %(default)s)")
    p.add_argument("--better", default="top_down", help="the regime whose wins are sought (default: %(default)s)")
    p.add_argument("--worse", default="permissive", help="the regime it is compared with (default: %(default)s)")
    p.add_argument("--value", choices=("final", "average"), default="final",
                   help="the metric's last-month value or its average over the run (default: %(default)s)")
    p.add_argument("--lower-is-better", action="store_true", help="a win is a lower value (e.g. turf_mean)")
    p.add_argument("--margin", type=float, default=0.0,
                   help="a win needs a mean paired difference beyond this (default: %(default)s)")
    p.add_argument("--min-coverage", type=float, default=0.5,
                   help="the PRIM box is the densest covering at least this share of wins (default: %(default)s)")
    p.add_argument("--split-seed", type=int, default=1, help="seed of the fit/held-out split (default: %(default)s)")
    _add_overrides(p)
    _add_backend(p)

    p = sub.add_parser("rerun", help="reproduce one stored run and check it matches",
                       description="Run one stored run again from its recorded seed, parameters and schedule, and "
                                   "say whether every metric in every month matches the stored values.")
    p.add_argument("dir", help="results folder")
    p.add_argument("run_id", help="the run's run_id (see the runs table)")

    p = sub.add_parser("report", help="write report.html and CSV tables for a results folder")
    p.add_argument("dir", help="results folder")
    _add_metrics(p)

    p = sub.add_parser("viz", help="open the interactive browser view of the model")
    p.add_argument("--port", type=int, default=8765, help="port (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="host to listen on (default: %(default)s)")
    return parser


def _error(message: str) -> int:
    print(f"ics-abm: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


# --------------------------------------------------------------------- compare, sweep
def compare_experiment_text(replicates: int, months: int, seed: int, uncertainty: str = "seeds") -> str:
    """The experiment file `ics-abm compare` runs: every regime preset, default ICS."""
    from abm.regimes import REGIMES

    from .spec import to_toml_list

    return (
        "# Written by `ics-abm compare`: every regime preset on the default ICS.\n"
        "# Run it again with: ics-abm sweep THIS_FILE --out DIR\n"
        "[experiment]\n"
        'name = "regime-comparison"\n'
        'description = "Every accountability regime preset on the default ICS; replicate r has the same seed '
        'under every regime (common random numbers)."\n'
        f"months = {months}\nreplicates = {replicates}\nseed = {seed}\n"
        'design = "full_factorial"\n'
        + ("" if uncertainty == "seeds" else f'uncertainty = "{uncertainty}"\n') + "\n"
        "[factors]\n"
        f"regime = {to_toml_list(REGIMES)}\n"
    )


def _run(exp, out: Path, args, command: str) -> int:
    from . import console
    from .report import write_report
    from .runner import plan_runs, run_experiment
    from .store import ResultsStore, load, stored_run_ids

    if args.workers > _cpus() and args.scheduler in (None, "local"):
        print(f"ics-abm: warning: --workers {args.workers} is more than the {_cpus()} CPUs here; the extra "
              "processes only share them and use more memory", file=sys.stderr)
    plan = plan_runs(exp, args.max_runs)
    try:
        manifest, extends = ResultsStore.check_target(out, plan, exp)  # before anything is written
        if extends:
            print(f"{out} holds {manifest['experiment']['n_runs']} planned runs of this experiment; extending it "
                  f"to {len(plan)} (stored runs are kept).", file=sys.stderr)
        print(f"{exp.name}: {len(plan)} runs ({len(plan) // exp.replicates} design points x {exp.replicates} "
              f"replicates, {exp.months} months) into {out}", file=sys.stderr)
        outcome = run_experiment(exp, out, workers=args.workers, scheduler=args.scheduler,
                                 batch_size=args.batch_size, progress=not args.no_progress, plan=plan)
        if outcome.skipped:
            print(f"{outcome.skipped} runs were already stored and were skipped.", file=sys.stderr)
        metrics = _metrics(getattr(args, "metrics", None))
        report = write_report(out, metrics)
        results = load(out)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(stored_run_ids(out))} of {len(plan)} runs are stored in {out}; run the same "
              "command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:   # a full disk, a read-only folder, ...: what stopped it, and how to go on
        what = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
        return _error(f"cannot write the results to {out}: {what}; {len(stored_run_ids(out))} of {len(plan)} runs "
                      "are stored there; fix that (free disk space, or choose another --out) and run the same "
                      "command again to resume")
    print()
    print(console.results_table(results, metrics))
    print()
    across = console.across_ics_table(results)
    if across:
        print(across)
        print()
    print(f"Ran {outcome.ran} runs in {outcome.seconds:.1f} s on {outcome.backend}"
          + (f"; {outcome.failed} failed (see the report)" if outcome.failed else "") + ".")
    from .uncertainty import covers
    print(covers(exp.uncertainty, exp.replicates))
    print(f"Results: {out}/ (load with experiments.load({str(out)!r})); report: {report}")
    print(f"Re-run: {command}   (reproduce one run: ics-abm rerun {shlex.quote(str(out))} "
          f"{results.runs['run_id'].iloc[0]})")
    return 0


def _metrics(text: str | None) -> list[str]:
    """The metrics named by --metrics ('all': every metric the model collects)."""
    from . import analysis
    from .spec import ExperimentError

    known = analysis.metric_names()
    if not text:
        return [m for m in analysis.HEADLINE if m in known] or known[:5]
    if text.strip() == "all":
        return known
    names = [m.strip() for m in text.split(",") if m.strip()]
    for name in names:
        if name not in known:
            from abm.parameters import suggest

            raise ExperimentError(f"--metrics: unknown metric {name!r}{suggest(name, known)}; "
                                  f"allowed: all, or any of {', '.join(known)}")
    return names


def _override_flags(args) -> str:
    """The --set/--replicates/--months flags as typed, for the re-run command."""
    flags = "".join(f" --set {shlex.quote(s)}" for s in args.settings)
    for name in ("replicates", "months"):
        if getattr(args, name, None) is not None:
            flags += f" --{name} {getattr(args, name)}"
    return flags


def cmd_compare(args) -> int:
    from abm import posterior

    from .spec import parse_experiment, with_overrides

    _metrics(args.metrics)  # a clear error before anything runs
    uncertainty = "posterior" if posterior.available() and not args.seeds_only else "seeds"
    text = compare_experiment_text(args.replicates, args.months, args.seed, uncertainty)
    exp = with_overrides(parse_experiment(text, source="ics-abm compare"), args.settings)
    out = Path(args.out)
    command = "ics-abm compare" + ("" if args.out == "results/compare" else f" --out {shlex.quote(args.out)}")
    if args.replicates != 30:
        command += f" --replicates {args.replicates}"
    if args.months != 120:
        command += f" --months {args.months}"
    if args.seed != 1:
        command += f" --seed {args.seed}"
    if args.seeds_only:
        command += " --seeds-only"
    command += "".join(f" --set {shlex.quote(s)}" for s in args.settings)
    return _run(exp, out, args, command)


def cmd_sweep(args) -> int:
    from .spec import load_experiment, with_overrides

    _metrics(args.metrics)  # a clear error before anything runs
    exp = with_overrides(load_experiment(args.experiment), args.settings, args.replicates, args.months)
    out = Path(args.out) if args.out else Path("results") / exp.name
    command = f"ics-abm sweep {shlex.quote(args.experiment)} --out {shlex.quote(str(out))}" + _override_flags(args)
    return _run(exp, out, args, command)


def cmd_discover(args) -> int:
    from . import discover
    from .report import write_report
    from .spec import ExperimentError, load_experiment, with_overrides
    from .store import load

    question = discover.Question(metric=args.metric, better=args.better, worse=args.worse, value=args.value,
                                 higher_is_better=not args.lower_is_better, margin=args.margin)
    source = Path(args.source)
    if source.is_dir():
        if args.settings or args.replicates or args.months or args.out:
            raise ExperimentError(f"{source} is a results folder: --set, --replicates, --months and --out "
                                  "apply only when running an experiment file")
        out = source
    else:
        exp = with_overrides(load_experiment(source), args.settings, args.replicates, args.months)
        discover.check_experiment(exp, question)   # before anything runs
        out = Path(args.out) if args.out else Path("results") / exp.name
        command = (f"ics-abm discover {shlex.quote(args.source)} --out {shlex.quote(str(out))}"
                   + _override_flags(args))
        args.metrics = ",".join(dict.fromkeys([*_metrics(None), question.metric]))
        code = _run(exp, out, args, command)
        if code:
            return code
    results = load(out)
    found, figures = discover.discover(results, question, split_seed=args.split_seed,
                                       min_coverage=args.min_coverage)
    discover.write(out, found, figures)
    report = write_report(out, list(dict.fromkeys([*_metrics(None), question.metric])))
    print()
    print(discover.summary_text(found))
    print(f"\nThe boxes, the peeling trade-off and the held-out figures: {report} (table: {out / discover.TABLE})")
    return 0


# --------------------------------------------------------------------- rerun, report, viz
def cmd_rerun(args) -> int:
    import difflib

    import numpy as np
    import pandas as pd

    from .runner import PARAMETER_NAMES, RunSpec, run_one
    from .store import load

    results = load(args.dir)
    runs = results.runs
    match = runs[runs["run_id"] == args.run_id]
    if match.empty:
        close = difflib.get_close_matches(args.run_id, list(runs["run_id"]), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return _error(f"{args.dir}: no run {args.run_id!r}{hint} ({len(runs)} runs stored, "
                      f"e.g. {', '.join(runs['run_id'].head(3))})")
    row = match.iloc[0]
    params = {name: (row[name].item() if hasattr(row[name], "item") else row[name]) for name in PARAMETER_NAMES}
    if isinstance(row.get("regime_base"), str):   # a named regime of the experiment file
        params["regime"] = row["regime_base"]
    tables = results.manifest.get("experiment", {}).get("tables", [])
    spec = RunSpec(run_id=row["run_id"], point=int(row["point"]), replicate=int(row["replicate"]),
                   seed=int(row["seed"]), months=int(row["months"]), params=params,
                   schedule=tuple(json.loads(row["schedule_events"])), agents="agents" in tables,
                   ties="ties" in tables, every=12)
    print(f"re-running {spec.run_id}: seed {spec.seed}, regime {params['regime']}, {spec.months} months ...")
    result = run_one(spec)
    if row["status"] == "failed" or result["status"] == "failed":
        old = str(row["error"]).strip().splitlines()[-1:] if row["status"] == "failed" else ["(it finished)"]
        new = result["error"].strip().splitlines()[-1:] if result["status"] == "failed" else ["(it finished)"]
        same = old == new
        print(f"stored run: {row['status']} {old[0]}\nthis run:   {result['status']} {new[0]}")
        print("MATCH: the run fails the same way." if same else "MISMATCH: the outcome differs.")
        return 0 if same else 1
    stored = results.metrics[results.metrics["run_id"] == spec.run_id].reset_index(drop=True)
    fresh = result["metrics"].reset_index(drop=True)
    columns = [c for c in stored.columns if c not in ("run_id", "month")]
    diffs = []
    if len(stored) != len(fresh) or list(stored["month"]) != list(fresh["month"]):
        diffs.append(f"months differ: stored {len(stored)} rows, this run {len(fresh)}")
    else:
        for c in columns:
            a, b = stored[c].to_numpy(), fresh[c].to_numpy()
            floats = a.dtype.kind == "f" and b.dtype.kind == "f"
            if not np.array_equal(a, b, equal_nan=floats):
                same = (a == b) | (pd.isna(a) & pd.isna(b)) if floats else (a == b)
                first = int(np.flatnonzero(~same)[0])
                diffs.append(f"{c}: first differs in month {stored['month'][first]} "
                             f"(stored {a[first]!r}, this run {b[first]!r})")
    if diffs:
        print("MISMATCH: the run does not reproduce the stored metrics:\n  " + "\n  ".join(diffs))
        return 1
    print(f"MATCH: all {len(columns)} metrics in all {len(stored)} months (0-{spec.months}) are identical "
          "to the stored run.")
    return 0


def cmd_report(args) -> int:
    from .console import across_ics_table
    from .report import write_report
    from .store import load

    metrics = _metrics(args.metrics)
    results = load(args.dir)  # a clear error if this is not a results folder
    out = write_report(args.dir, metrics)
    across = across_ics_table(results)
    if across:
        print(across + "\n")
    print(f"report: {out} (CSV tables beside it)")
    return 0


def cmd_viz(args) -> int:
    try:
        from viz import server
    except ImportError as exc:
        return _error(f"the browser view is not available ({exc})")
    try:
        code = server.serve(host=args.host, port=args.port)
    except ValueError as exc:   # the port or host (checked by the server's one rule)
        return _error(f"viz: {exc}")
    return code if isinstance(code, int) else 0


def cmd_calibrate(args) -> int:
    from .calibration_cli import cmd_calibrate as run

    return run(args)


COMMANDS = {"compare": cmd_compare, "calibrate": cmd_calibrate, "sweep": cmd_sweep, "discover": cmd_discover,
            "rerun": cmd_rerun, "report": cmd_report, "viz": cmd_viz}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .runner import BackendError
    from .spec import ExperimentError
    from .store import StoreError

    try:
        return COMMANDS[args.command](args)
    except (ExperimentError, StoreError, BackendError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
