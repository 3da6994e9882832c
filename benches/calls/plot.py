#!/usr/bin/env python3
"""Draws the calls bench's ratios as an SVG (standard library only).

    python3 benches/calls/plot.py target/bench-calls.tsv > docs/calls.svg

Reads the tab-separated figures `cargo bench --bench calls` writes and draws two panels:
throughput and CPU per call of each variant as a ratio to the hand-written call measured
in the same rounds, for each operation, calling pattern and number of calls in flight,
with the goals (0.95x throughput, 1.05x CPU) as dashed lines.
"""

import csv
import sys
from html import escape

SERIES = [
    ("hand-written vs itself (noise floor)", "#9e9e9e"),
    ("Client, fixed token", "#1f77b4"),
    ("Client, app credentials", "#ff7f0e"),
]
PANELS = [
    ("ratio", "throughput / hand-written (higher is better)", 0.95),
    ("cpu_ratio", "CPU per call / hand-written (lower is better)", 1.05),
]


def main(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    groups = []
    for row in rows:
        key = (row["operation"], row["pattern"], int(row["in_flight"]))
        if key not in groups:
            groups.append(key)
    value = {(r["operation"], r["pattern"], int(r["in_flight"]), r["variant"], field): float(r[field])
             for r in rows for field in ("ratio", "cpu_ratio")}
    values = [v for (_, _, _, variant, _), v in value.items() if variant != "hand-written (reference)"]
    low = min(0.8, min(values) - 0.02)
    high = max(1.2, max(values) + 0.02)

    bar, gap, left, top, panel_height, between = 13, 24, 70, 40, 220, 100
    group_width = bar * len(SERIES) + gap
    width = left + group_width * len(groups) + 20
    legend_y = top + 2 * panel_height + between + 74
    height = legend_y + 16 * len(SERIES) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']

    for p, (field, title, goal) in enumerate(PANELS):
        y0 = top + p * (panel_height + between)

        def y(v):
            return y0 + panel_height * (high - v) / (high - low)

        out.append(f'<text x="{left}" y="{y0 - 12}" font-size="13" font-weight="bold">{escape(title)}</text>')
        for tick in [t / 100 for t in range(int(low * 20) * 5, int(high * 20) * 5 + 1, 5)]:
            if low <= tick <= high:
                out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                           f'stroke="#eee"/>')
                out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}x</text>')
        for level, colour, dash in [(1.0, "#333", ""), (goal, "#d62728", ' stroke-dasharray="5,3"')]:
            out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
                       f'stroke="{colour}"{dash}/>')
        for g, (operation, pattern, in_flight) in enumerate(groups):
            x0 = left + g * group_width + gap / 2
            for s, (variant, colour) in enumerate(SERIES):
                v = value.get((operation, pattern, in_flight, variant, field))
                if v is None:
                    continue
                x = x0 + s * bar
                top_y, bottom_y = sorted([y(v), y(1.0)])
                out.append(f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar - 1}" '
                           f'height="{max(bottom_y - top_y, 0.5):.1f}" fill="{colour}">'
                           f'<title>{escape(f"{operation}, {pattern}, {in_flight} in flight, {variant}: {v:.2f}x")}'
                           f'</title></rect>')
            label_y = y0 + panel_height + 14
            out.append(f'<text x="{x0 + bar * 1.5:.1f}" y="{label_y}" text-anchor="middle">{in_flight}</text>')
        # Operation and pattern under each run of levels.
        runs = {}
        for g, (operation, pattern, _) in enumerate(groups):
            runs.setdefault((operation, pattern), []).append(g)
        for (operation, pattern), members in runs.items():
            x_mid = left + (members[0] + members[-1] + 1) / 2 * group_width
            out.append(f'<text x="{x_mid:.1f}" y="{y0 + panel_height + 30}" text-anchor="middle">'
                       f'{escape(operation)}</text>')
            out.append(f'<text x="{x_mid:.1f}" y="{y0 + panel_height + 44}" text-anchor="middle">'
                       f'{escape(pattern)}</text>')
    for s, (variant, colour) in enumerate(SERIES):
        y_text = legend_y + 16 * s
        out.append(f'<rect x="{left}" y="{y_text - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{left + 14}" y="{y_text}">{escape(variant)}</text>')
    out.append(f'<text x="{left + 300}" y="{legend_y}">numbers: calls in flight; dashed red: the goal</text>')
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench-calls.tsv")
