"""The ``trustbench`` command line.

Exit status:

- 0 on success;
- 1 when a cell failed, a claim's verdict differs from the one expected for the tier, or
  ``compare`` found a flipped verdict;
- 2 on invalid input: an unknown family or method, an invalid parameter, a broken plugin
  or an unusable store;
- 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from trustbench.core.errors import TrustbenchError
from trustbench.core.family import DEFAULT_TIER, TIERS

logger = logging.getLogger("trustbench")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid value {value}; expected 0 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"invalid time limit {value}; expected seconds > 0")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="SQLite results file (default: $TRUSTBENCH_STORE or ./trustbench.sqlite)",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH",
        help="Python file that registers methods; repeat for several files",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``trustbench`` command."""
    parser = argparse.ArgumentParser(
        prog="trustbench",
        description="Rerun the claims of trustworthy-ML papers and write leaderboards.",
        epilog="Exit status: 0 success; 1 failed cell, unexpected verdict or flipped verdict; "
        "2 invalid input; 130 interrupted.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-v: info, -vv: debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list families, methods and claims")
    listing.add_argument("family", nargs="?", help="only this family")
    _add_common(listing)

    run = commands.add_parser("run", help="run a family's cells, claims and leaderboards")
    run.add_argument("family", help="family name, e.g. unlearning")
    run.add_argument(
        "--method",
        action="append",
        default=None,
        metavar="NAME",
        help="method to evaluate; repeat for several. The built-in methods always run too, "
        "since claims and leaderboards compare against them (default: every registered "
        "method, installed plugins included)",
    )
    run.add_argument(
        "--tier",
        choices=TIERS,
        default=DEFAULT_TIER,
        help=f"problem sizes and data sources (default: {DEFAULT_TIER})",
    )
    run.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        help="number of seeds, 0..N-1 (default: the tier's, usually 3 or 5)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="cells computed at once, each in its own process; 0 runs them in "
        "this process without isolation (default: number of CPUs)",
    )
    run.add_argument(
        "--time-limit",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="wall-clock seconds per cell before it is stopped and recorded as "
        "failed (default: 600 at smoke, 3600 at cpu, none at paper)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="METHOD.NAME=VALUE",
        help="set a method parameter, e.g. pij_prox.max_iter=50; repeat for several. "
        "'trustbench list FAMILY' shows each method's parameters and defaults",
    )
    run.add_argument(
        "--leaderboard-dir",
        type=Path,
        default=Path("leaderboards"),
        help="folder for leaderboards; tiers other than cpu go to a subfolder "
        "(default: ./leaderboards)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_common(run)

    board = commands.add_parser("leaderboard", help="rewrite leaderboards from stored records")
    board.add_argument("family", nargs="?", help="only this family (default: every family)")
    board.add_argument("--tier", choices=TIERS, default=DEFAULT_TIER, help="tier to show")
    board.add_argument(
        "--leaderboard-dir",
        type=Path,
        default=Path("leaderboards"),
        help="output folder (default: ./leaderboards)",
    )
    _add_common(board)

    show = commands.add_parser("show", help="print stored records as a table")
    show.add_argument("--family", default=None, help="only this family")
    show.add_argument("--tier", choices=TIERS, default=None, help="only this tier")
    show.add_argument("--failed", action="store_true", help="only failed cells, with reasons")
    show.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME",
        help="metric column to show; repeat for several",
    )
    _add_common(show)

    export = commands.add_parser("export", help="export stored records to CSV, JSON or Parquet")
    export.add_argument(
        "output",
        type=Path,
        help="output file; its suffix picks the format (.csv, .json or .parquet)",
    )
    export.add_argument("--family", default=None, help="only this family")
    export.add_argument("--tier", choices=TIERS, default=None, help="only this tier")
    _add_common(export)

    compare = commands.add_parser(
        "compare", help="compare a leaderboard JSON with a reference and report changes"
    )
    compare.add_argument("current", type=Path, help="leaderboard JSON just written")
    compare.add_argument("reference", type=Path, help="reference leaderboard JSON")
    compare.add_argument(
        "--rtol",
        type=float,
        default=0.25,
        help="relative change of a metric mean that is reported (default 0.25)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _dispatch(args)
    except TrustbenchError as error:
        print(f"trustbench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "trustbench: interrupted; finished records are kept, run again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    from trustbench.core import commands

    handler = {
        "list": commands.cmd_list,
        "run": commands.cmd_run,
        "leaderboard": commands.cmd_leaderboard,
        "show": commands.cmd_show,
        "export": commands.cmd_export,
        "compare": commands.cmd_compare,
    }[args.command]
    return handler(args)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """Print a table in the terminal format."""
    print(tabulate(rows, headers=headers, tablefmt="simple"))


def dump_json(value: Any) -> str:
    """Return ``value`` as indented JSON."""
    return json.dumps(value, indent=2, default=str)
