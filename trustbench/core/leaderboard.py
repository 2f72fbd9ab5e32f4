"""Leaderboards: Markdown, CSV, JSON and a static HTML page per family and tier."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from trustbench.core.claims import ClaimResult
from trustbench.core.family import DEFAULT_TIER, Family
from trustbench.core.provenance import environment
from trustbench.core.summary import MetricSummary, format_value, summarise

logger = logging.getLogger(__name__)

DEFAULT_LEADERBOARD_DIR = "leaderboards"


@dataclass
class Leaderboard:
    """Everything a family's leaderboard shows for one tier."""

    family: Family
    tier: str
    records: list[dict[str, Any]]
    claims: list[tuple[str, str, ClaimResult]]
    summaries: list[MetricSummary]

    @classmethod
    def build(cls, family: Family, tier: str, records: Sequence[Mapping[str, Any]]) -> Leaderboard:
        """Evaluate the family's claims on ``records`` and summarise the metrics."""
        chosen = [dict(r) for r in records if r["family"] == family.name and r["tier"] == tier]
        claims = []
        for claim in family.claims():
            expected = claim.expected.get(tier)
            claims.append(
                (claim.statement, str(expected) if expected else "", claim.evaluate(chosen, tier))
            )
        return cls(family, tier, chosen, claims, summarise(chosen))

    def methods(self) -> list[str]:
        """Return the methods present, in order of first appearance."""
        return list(dict.fromkeys(r["method"] for r in self.records))

    def metric_names(self) -> list[str]:
        """Return the declared metrics first, then any other metric found."""
        declared = [m.name for m in self.family.metrics]
        found = {s.metric for s in self.summaries}
        return [m for m in declared if m in found] + sorted(found - set(declared))

    def failures(self) -> list[dict[str, Any]]:
        """Return the failed records."""
        return [r for r in self.records if r["status"] != "ok"]

    def to_json(self) -> dict[str, Any]:
        """Return the leaderboard as a JSON-serialisable dict."""
        methods = {}
        for name in self.methods():
            example = next(r for r in self.records if r["method"] == name)
            methods[name] = {"params": example["params"], "kind": _method_kind(self.family, name)}
        return {
            "family": self.family.name,
            "title": self.family.title,
            "tier": self.tier,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "environment": environment(),
            "methods": methods,
            "claims": [
                {"statement": statement, "expected": expected, **result.to_dict()}
                for statement, expected, result in self.claims
            ],
            "metrics": [s.to_dict() for s in self.summaries],
            "tables": [
                {"title": title, "headers": list(headers), "rows": rows}
                for title, headers, rows in self.family.tables(self.records, self.tier)
            ],
            "failed_cells": [
                {
                    "scenario": r["scenario"],
                    "method": r["method"],
                    "seed": r["seed"],
                    "error": r["error"],
                }
                for r in self.failures()
            ],
        }


def _method_kind(family: Family, name: str) -> str:
    from trustbench.core.errors import TrustbenchError
    from trustbench.core.registry import get_method

    try:
        return get_method(family.name, name).kind
    except TrustbenchError:  # a method of the records that is not loaded in this process
        return "unknown"


def output_dir(base: str | Path, tier: str) -> Path:
    """Return where a tier's leaderboards go: ``base`` for the default tier, else a subfolder."""
    base = Path(base)
    return base if tier == DEFAULT_TIER else base / tier


def claims_rows(board: Leaderboard) -> list[list[str]]:
    """Return the claims table: name, statement, expected, verdict, effect [CI], seeds."""
    rows = []
    for statement, expected, result in board.claims:
        rows.append(
            [
                result.claim,
                statement,
                expected or "-",
                result.verdict.value,
                format_value(result.effect, result.ci_low, result.ci_high),
                str(len(result.seeds)),
                result.detail,
            ]
        )
    return rows


CLAIM_HEADERS = ["claim", "statement", "expected", "verdict", "effect [95% CI]", "seeds", "detail"]


def scenario_table(board: Leaderboard, scenario: str) -> tuple[list[str], list[list[str]]]:
    """Return headers and rows (one per method) of a scenario's metrics."""
    metrics = board.metric_names()
    index = {(s.method, s.metric): s for s in board.summaries if s.scenario == scenario}
    present = [m for m in metrics if any((meth, m) in index for meth in board.methods())]
    rows = []
    for method in board.methods():
        if not any((method, m) in index for m in present):
            continue
        row = [method]
        for metric in present:
            s = index.get((method, metric))
            row.append(format_value(s.mean, s.ci_low, s.ci_high) if s else "-")
        rows.append(row)
    return ["method", *present], rows


def write_leaderboard(board: Leaderboard, base_dir: str | Path) -> list[Path]:
    """Write Markdown, CSV, JSON, HTML and plots for ``board`` and return their paths."""
    out = output_dir(base_dir, board.tier)
    out.mkdir(parents=True, exist_ok=True)
    stem = board.family.name
    plots = board.family.plots(board.records, out)
    paths = [out / f"{stem}.md", out / f"{stem}.csv", out / f"{stem}.json", out / f"{stem}.html"]
    paths[0].write_text(render_markdown(board, plots, out))
    pd.DataFrame([s.to_dict() for s in board.summaries]).to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps(board.to_json(), indent=2, sort_keys=False, default=str) + "\n")
    paths[3].write_text(render_html(board, plots, out))
    index = write_index(base_dir)
    logger.info("wrote leaderboard of %s (%s tier) to %s", stem, board.tier, out)
    return [*paths, *plots, index]


def write_index(base_dir: str | Path) -> Path:
    """Write ``index.html`` in ``base_dir`` linking every leaderboard found there.

    The page lists each family and tier with its claims' verdicts, read from the JSON
    leaderboards, so it stays consistent with them.
    """
    base = Path(base_dir)
    rows = []
    for path in sorted([*base.glob("*.json"), *base.glob("*/*.json")]):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or "claims" not in data or "family" not in data:
            continue
        page = path.with_suffix(".html").relative_to(base).as_posix()
        for claim in data["claims"]:
            rows.append((data["family"], data.get("tier", ""), page, claim))
    esc = html.escape
    body = []
    for family, tier, page, claim in rows:
        verdict = str(claim.get("verdict", ""))
        body.append(
            f'<tr><td><a href="{esc(page)}">{esc(family)}</a></td><td>{esc(tier)}</td>'
            f"<td>{esc(str(claim.get('claim', '')))}</td>"
            f'<td class="verdict-{esc(verdict)}">{esc(verdict)}</td>'
            f"<td>{esc(str(claim.get('expected', '')))}</td></tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("family", "tier", "claim", "verdict", "expected"))
    page_text = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8"><title>trustbench leaderboards</title>',
            f"<style>{_STYLE}</style></head><body>",
            "<h1>trustbench leaderboards</h1>",
            f'<table id="index"><thead><tr>{head}</tr></thead>',
            f"<tbody>{''.join(body)}</tbody></table>",
            "</body></html>",
        ]
    )
    index = base / "index.html"
    index.write_text(page_text + "\n")
    return index


def render_markdown(board: Leaderboard, plots: Sequence[Path], out: Path) -> str:
    """Return the Markdown leaderboard."""
    family = board.family
    lines = [
        f"# {family.name} leaderboard ({board.tier} tier)",
        "",
        f"{family.title}",
        "",
        "Values are means over seeds with bootstrap 95% intervals. Generated by "
        f"`trustbench run {family.name} --tier {board.tier}`; do not edit by hand.",
        "",
        "## Claims",
        "",
        tabulate(claims_rows(board), headers=CLAIM_HEADERS, tablefmt="github"),
        "",
    ]
    for title, headers, rows in board.family.tables(board.records, board.tier):
        lines += [f"## {title}", "", tabulate(rows, headers=headers, tablefmt="github"), ""]
    for scenario in dict.fromkeys(r["scenario"] for r in board.records):
        headers, rows = scenario_table(board, scenario)
        if not rows:
            continue
        lines += [
            f"## Scenario `{scenario}`",
            "",
            tabulate(rows, headers=headers, tablefmt="github"),
            "",
        ]
    failures = board.failures()
    if failures:
        lines += ["## Failed cells", ""]
        rows = [[r["scenario"], r["method"], r["seed"], r["error"]] for r in failures]
        lines += [
            tabulate(rows, headers=["scenario", "method", "seed", "error"], tablefmt="github"),
            "",
        ]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(out).as_posix()})" for p in plots]
        lines.append("")
    env = environment()
    lines += [
        "## Provenance",
        "",
        f"trustbench {env['packages'].get('trustbench', '?')}, commit {env['git_commit']}, "
        f"Python {env['python']}, CPU {env['cpu']}.",
        "",
    ]
    return "\n".join(lines)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f"<td>{html.escape(str(value))}</td>" for value in row)
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table class="{html.escape(css)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 90rem; }
table { border-collapse: collapse; margin-bottom: 1.5rem; font-size: 0.9rem; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.verdict-holds { background: #e2f4e2; } td.verdict-fails { background: #f8dede; }
td.verdict-inconclusive { background: #fdf3d8; }
img { max-width: 45rem; display: block; margin-bottom: 1rem; }
"""


def render_html(board: Leaderboard, plots: Sequence[Path], out: Path) -> str:
    """Return a self-contained static HTML page; every string from records is escaped."""
    family = board.family
    esc = html.escape

    claims = []
    for row in claims_rows(board):
        cells = []
        for index, value in enumerate(row):
            css = f' class="verdict-{esc(value)}"' if index == 3 else ""
            cells.append(f"<td{css}>{esc(str(value))}</td>")
        claims.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in CLAIM_HEADERS)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(family.name)} leaderboard ({esc(board.tier)} tier)</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(family.name)} leaderboard ({esc(board.tier)} tier)</h1>",
        f"<p>{esc(family.title)}</p>",
        "<p>Values are means over seeds with bootstrap 95% intervals.</p>",
        "<h2>Claims</h2>",
        f'<table id="claims"><thead><tr>{head}</tr></thead>',
        f"<tbody>{''.join(claims)}</tbody></table>",
    ]

    for title, headers, rows in board.family.tables(board.records, board.tier):
        parts.append(f"<h2>{esc(title)}</h2>")
        parts.append(_html_table(headers, rows, "extra"))
    for scenario in dict.fromkeys(r["scenario"] for r in board.records):
        headers, rows = scenario_table(board, scenario)
        if rows:
            parts.append(f"<h2>Scenario {esc(scenario)}</h2>")
            parts.append(_html_table(headers, rows, "metrics"))

    failures = board.failures()
    if failures:
        parts.append("<h2>Failed cells</h2>")
        rows = [[r["scenario"], r["method"], r["seed"], r["error"]] for r in failures]
        parts.append(_html_table(["scenario", "method", "seed", "error"], rows, "failures"))

    if plots:
        parts.append("<h2>Plots</h2>")
        for plot in plots:
            source = esc(plot.relative_to(out).as_posix())
            parts.append(f'<figure><img src="{source}" alt="{esc(plot.stem)}"></figure>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
