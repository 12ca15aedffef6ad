"""``ics-abm calibrate``: the sub-command's arguments and action (logic in experiments.calibration)."""

from __future__ import annotations


def add_calibrate_parser(sub) -> None:
    """Add the ``calibrate`` sub-command to the ``ics-abm`` parser."""
    p = sub.add_parser("calibrate", help="ABC-SMC calibration against quantified NHS facts (pyabc)",
                       description="Fit the uncertain parameters to quantified NHS facts by ABC-SMC (pyabc) and write "
                                   "the posterior, a posterior-predictive check and report.md (docs/calibration.md). "
                                   "The same --seed gives the same posterior whatever --workers.")
    p.add_argument("--quick", action="store_true", help="a tiny run that takes seconds (for tests)")
    p.add_argument("--out", default=None,
                   help="output folder (default: abm/data/posterior, the shipped posterior; "
                        "results/calibration-quick with --quick)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1; the result is the same)")
    p.add_argument("--scheduler", metavar="ADDRESS|local", help="evaluate particles on Dask (as in `sweep`)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default: %(default)s)")
    p.add_argument("--population", type=int, help="particles per generation (shipped: 40)")
    p.add_argument("--generations", type=int, help="ABC-SMC generations (shipped: 5)")
    p.add_argument("--months", type=int, help="months per scenario run (shipped: 72)")
    p.add_argument("--predictive", type=int, help="posterior-predictive draws for the report (shipped: 40)")
    p.add_argument("--keep-db", action="store_true", help="keep pyabc's database abc.db in the output folder")


def cmd_calibrate(args) -> int:
    import sys

    try:
        import pyabc  # noqa: F401
    except ImportError:
        print("ics-abm: error: calibration needs pyabc: pip install 'ics-abm[calibrate]'", file=sys.stderr)
        return 2
    from .calibration import calibrate, target_verdicts

    mode = "quick" if args.quick else "shipped"
    out = args.out if args.out is not None else (None if mode == "shipped" else "results/calibration-quick")
    result = calibrate(mode, out, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                       population=args.population, generations=args.generations, months=args.months,
                       predictive=args.predictive, keep_db=args.keep_db, progress=False)
    m = result.manifest
    print(f"calibration ({mode}): {m['particle_evaluations']} particle evaluations, {m['model_runs']} model runs, "
          f"{m['abc_seconds'] + m['predictive_seconds']:.0f} s; posterior and report in {result.out}")
    for v in target_verdicts(result.predictive):
        print(f"  {v['id']:4} {'fitted  ' if v['fitted'] else 'held out'} {v['stat']:36} {v['range']:>14}  "
              f"median {v['median']:.3g}  inside {v['share_inside']:.2f}  {v['verdict']}")
    return 0
