"""The printed table of a bench result (bench/results/<date>.json): python -m bench.report FILE."""

from __future__ import annotations

import json
import sys


def rows(runs: list[dict]) -> list[list]:
    out = []
    for run in runs:
        floor = run["floor"]["rps"]
        load = run["load_average"][0]
        steps = run["steps"]
        single = len(steps) == 1
        for name, step in steps.items():
            # One request kind: its measured throughput. A multi-step flow (checkout): each step's own
            # rate, users / mean latency, against the floor measured just before at the same users.
            rps = run["rps"] if single else step["rps"]
            label = run["label"] if single else f"{run['label']}: {name}"
            out.append(
                [label, rps, floor, round(rps / floor, 3) if floor else None, step["p50_ms"], step["p95_ms"],
                 step["p99_ms"], step["errors"], step["queries_per_request"], load]
            )  # fmt: skip
    return out


def table(result: dict, *, markdown: bool = False) -> str:
    head = ["page", "req/s", "floor req/s", "ratio", "p50 ms", "p95 ms", "p99 ms", "errors", "SQL/req", "load1"]
    lines = []
    for title, key in (("Scenarios (cache off)", "scenarios"), ("Catalogue, cache on", "cached"),
                       ("Scaling", "scaling")):  # fmt: skip
        if not result.get(key):
            continue
        lines += ["", f"### {title}" if markdown else title, ""] if markdown else ["", title]
        lines.append(("| " + " | ".join(head) + " |") if markdown else " | ".join(head))
        if markdown:
            lines.append("|" + "---|" * len(head))
        for row in rows(result[key]):
            row = [round(v, 2) if isinstance(v, float) and v > 5 else v for v in row[:-1]] + [round(row[-1], 1)]
            text = " | ".join("-" if v is None else str(v) for v in row)
            lines.append(f"| {text} |" if markdown else text)
    background = result.get("background", {})
    if background:
        lines += ["", f"Periodic tasks ({background.get('orders')} orders)", "task | due | s | s/1000 due | SQL/due"]
        for task in background["tasks"]:
            lines.append(
                f"{task['task']} | {task['due_rows']} | {task.get('seconds', '-')} | "
                f"{task.get('seconds_per_1000_due', '-')} | {task.get('queries_per_due_row', task.get('error', '-'))}"
            )
        for name, why in background.get("not_measured", {}).items():
            lines.append(f"{name} | not measured: {why}")
        invoice = background.get("invoice", {})
        for label in ("1 line", "30 lines"):
            if label in invoice:
                lines.append(
                    f"invoice PDF, {label}: p50 {invoice[label]['p50_ms']} ms, p95 {invoice[label]['p95_ms']} ms"
                )
        if invoice.get("memory", {}).get("samples"):
            last = invoice["memory"]["samples"][-1]
            lines.append(f"invoice PDF memory: +{last['rss_growth_kib'] / 1024:.1f} MB over {last['renders']} renders")
    for scale in result.get("background_scaling", []):
        per_row = ", ".join(f"{t['task']} {t.get('queries_per_due_row', 'err')}" for t in scale["tasks"])
        lines.append(f"SQL per due row @{scale['scale']} orders: {per_row}")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        print(table(json.load(source), markdown="--markdown" in sys.argv))
