"""Handlers of the ``trustbench`` subcommands."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from trustbench.core.api import run_family
from trustbench.core.cli import EXIT_FAILED, EXIT_OK, print_table
from trustbench.core.errors import ParameterError, TrustbenchError
from trustbench.core.leaderboard import Leaderboard, write_leaderboard
from trustbench.core.registry import (
    get_family,
    list_families,
    list_methods,
    load_entry_points,
    load_plugin_file,
)
from trustbench.core.store import Store

logger = logging.getLogger(__name__)


def _load_plugins(args: argparse.Namespace) -> None:
    for path in args.plugin:
        load_plugin_file(path)
    load_entry_points()


def cmd_list(args: argparse.Namespace) -> int:
    """Print families, their methods (kind and source) and their claims."""
    _load_plugins(args)
    families = [get_family(args.family)] if args.family else list_families()
    for family in families:
        print(f"{family.name}: {family.title}")
        rows = [
            [cls.name, cls.kind, _describe_params(cls), cls.source]
            for cls in list_methods(family.name)
        ]
        print_table(rows, ["method", "kind", "parameters (default)", "source"])
        print()
        claim_rows = [
            [c.name, c.statement, ", ".join(f"{t}: {v}" for t, v in c.expected.items())]
            for c in family.claims()
        ]
        print_table(claim_rows, ["claim", "statement", "expected verdict"])
        print()
    return EXIT_OK


def _describe_params(cls: Any) -> str:
    return ", ".join(f"{name}={spec.default!r}" for name, spec in cls.params.items()) or "-"


def _parse_method_params(items: Sequence[str]) -> dict[str, dict[str, str]]:
    params: dict[str, dict[str, str]] = {}
    for item in items:
        method, sep, assignment = item.partition(".")
        name, eq, value = assignment.partition("=")
        if not (sep and eq and method and name):
            raise ParameterError(
                f"invalid --param {item!r}; expected METHOD.NAME=VALUE, e.g. pij_prox.max_iter=50"
            )
        params.setdefault(method, {})[name] = value
    return params


def cmd_run(args: argparse.Namespace) -> int:
    """Run a family and report failures and unexpected verdicts."""
    store = Store(args.store) if args.store else Store()
    outcome = run_family(
        args.family,
        tier=args.tier,
        methods=args.method,
        seeds=args.seeds,
        workers=args.workers,
        store=store,
        plugin_files=args.plugin,
        time_limit=args.time_limit,
        method_params=_parse_method_params(args.param),
        leaderboard_dir=args.leaderboard_dir,
        progress=False if args.no_progress else None,
    )
    summary = outcome.summary
    print(
        f"{args.family} ({args.tier} tier): {summary.total} cells, {summary.cached} from the "
        f"store, {summary.ok} computed, {len(summary.failed)} failed"
    )
    for _, expected, result in outcome.board.claims:
        mark = "" if not expected or result.verdict.value == expected else f" (expected {expected})"
        print(f"  claim {result.summary()}{mark}")
    for label, reason in summary.failed:
        print(f"  failed cell {label}: {reason}", file=sys.stderr)
    if outcome.written:
        print(f"leaderboard: {outcome.written[0]}")
    return EXIT_FAILED if summary.failed or outcome.unexpected_verdicts() else EXIT_OK


def latest_records(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Keep, per (scenario, method, params, seed, tier), the most recently finished record."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        key = (
            record["family"],
            record["tier"],
            record["scenario"],
            record["method"],
            json.dumps(record["params"], sort_keys=True),
            record["seed"],
        )
        if key not in latest or record["finished_at"] >= latest[key]["finished_at"]:
            latest[key] = dict(record)
    return list(latest.values())


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Rewrite leaderboards from the records in the store."""
    _load_plugins(args)
    store = Store(args.store) if args.store else Store()
    families = [get_family(args.family)] if args.family else list_families()
    for family in families:
        records = latest_records(store.records(family=family.name, tier=args.tier))
        if not records:
            print(f"{family.name}: no records at the {args.tier} tier in {store.path}")
            continue
        board = Leaderboard.build(family, args.tier, records)
        written = write_leaderboard(board, args.leaderboard_dir)
        print(f"{family.name}: wrote {written[0]}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """Print the stored records as a table."""
    store = Store(args.store) if args.store else Store()
    records = store.records(family=args.family, tier=args.tier)
    if args.failed:
        records = [r for r in records if r["status"] != "ok"]
    headers = ["family", "tier", "scenario", "method", "seed", "status", "seconds", *args.metric]
    rows = []
    for r in records:
        row = [
            r["family"],
            r["tier"],
            r["scenario"],
            r["method"],
            r["seed"],
            r["status"],
            f"{r['seconds']:.2f}",
        ]
        row += [r["metrics"].get(m, "-") for m in args.metric]
        if args.failed:
            row.append(r["error"])
        rows.append(row)
    print_table(rows, [*headers, "error"] if args.failed else headers)
    print(f"{len(rows)} record(s) in {store.path}")
    return EXIT_OK


def records_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return records as a flat table: one column per metric, JSON for nested fields."""
    rows = []
    for r in records:
        row = {
            k: r[k]
            for k in (
                "key",
                "family",
                "tier",
                "scenario",
                "method",
                "seed",
                "status",
                "error",
                "code_version",
                "started_at",
                "finished_at",
                "seconds",
            )
        }
        row["params"] = json.dumps(r["params"], sort_keys=True)
        row["provenance"] = json.dumps(r["provenance"], sort_keys=True)
        row.update({f"metric.{k}": v for k, v in r["metrics"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the stored records to a CSV, JSON or Parquet file."""
    store = Store(args.store) if args.store else Store()
    frame = records_frame(store.records(family=args.family, tier=args.tier))
    suffix = args.output.suffix.lower()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(args.output, index=False)
    elif suffix == ".json":
        frame.to_json(args.output, orient="records", indent=2)
    elif suffix == ".parquet":
        frame.to_parquet(args.output, index=False)
    else:
        raise ParameterError(
            f"invalid export file {str(args.output)!r}; use a .csv, .json or .parquet suffix"
        )
    print(f"wrote {len(frame)} record(s) to {args.output}")
    return EXIT_OK


def _read_board(path: Any) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise TrustbenchError(f"leaderboard file {str(path)!r} not found") from None
    except json.JSONDecodeError as error:
        raise TrustbenchError(
            f"leaderboard file {str(path)!r} is not valid JSON: {error}"
        ) from None


def cmd_compare(args: argparse.Namespace) -> int:
    """Report flipped verdicts (exit 1) and metric means that moved beyond ``--rtol``."""
    current, reference = _read_board(args.current), _read_board(args.reference)
    before = {c["claim"]: c["verdict"] for c in reference.get("claims", [])}
    flipped = 0
    for claim in current.get("claims", []):
        old = before.get(claim["claim"])
        if old is not None and old != claim["verdict"]:
            flipped += 1
            print(f"verdict changed: {claim['claim']}: {old} -> {claim['verdict']}")
    old_metrics = {
        (m["scenario"], m["method"], m["metric"]): m for m in reference.get("metrics", [])
    }
    moved = 0
    for m in current.get("metrics", []):
        old = old_metrics.get((m["scenario"], m["method"], m["metric"]))
        if old is None or old["mean"] is None or m["mean"] is None:
            continue
        scale = max(abs(old["mean"]), 1e-12)
        if math.fabs(m["mean"] - old["mean"]) / scale > args.rtol:
            moved += 1
            print(
                f"metric moved: {m['scenario']}/{m['method']}/{m['metric']}: "
                f"{old['mean']:.4g} -> {m['mean']:.4g}"
            )
    print(
        f"{flipped} verdict(s) changed, {moved} metric mean(s) moved by more than {args.rtol:.0%}"
    )
    return EXIT_FAILED if flipped else EXIT_OK
