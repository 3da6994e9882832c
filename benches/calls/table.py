#!/usr/bin/env python3
"""Prints the calls bench's figures as the Markdown tables of the README and docs/performance.md
(standard library only).

    python3 benches/calls/table.py target/bench-calls.tsv [target/bench-calls-mimalloc.tsv]

With one file: a row per operation, calling pattern and variant, the ratios to the hand-written
call at 1, 16 and 64 calls in flight, and the ranges the README quotes. With a second file (the
same bench with `BENCH_ALLOCATOR=mimalloc`): the two allocators side by side, the client's
ratios under each and the hand-written call's calls per second under each.
"""

import csv
import sys

LEVELS = (1, 16, 64)
CLIENT = ("Client, fixed token", "Client, app credentials")
NOISE = "hand-written vs itself (noise floor)"
REFERENCE = "hand-written (reference)"


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    figures = {}
    lines = []
    for row in rows:
        key = (row["operation"], row["pattern"])
        if key not in lines:
            lines.append(key)
        figures[key + (row["variant"], int(row["in_flight"]))] = row
    return lines, figures


def ranges(lines, figures, variants, field):
    values = [float(figures[line + (variant, level)][field])
              for line in lines for variant in variants for level in LEVELS]
    return f"{min(values):.2f}x–{max(values):.2f}x"


def one_allocator(path):
    lines, figures = read(path)
    print("| throughput, CPU per call (ratio to the hand-written call) | 1 in flight | 16 in flight | 64 in flight |")
    print("| --- | ---: | ---: | ---: |")
    for line in lines:
        for variant in (NOISE,) + CLIENT:
            label = "noise floor" if variant == NOISE else variant
            cells = []
            for level in LEVELS:
                row = figures[line + (variant, level)]
                cells.append(f"{float(row['ratio']):.2f}x, {float(row['cpu_ratio']):.2f}x")
            print(f"| `{line[0]}`, {line[1]}: {label} | " + " | ".join(cells) + " |")
    print()
    print(f"client throughput {ranges(lines, figures, CLIENT, 'ratio')}, "
          f"CPU per call {ranges(lines, figures, CLIENT, 'cpu_ratio')}; "
          f"noise floor {ranges(lines, figures, (NOISE,), 'ratio')} and "
          f"{ranges(lines, figures, (NOISE,), 'cpu_ratio')}")


def two_allocators(glibc_path, mimalloc_path):
    lines, glibc = read(glibc_path)
    _, mimalloc = read(mimalloc_path)
    print("| calls in flight: 1, 16, 64 | glibc malloc | mimalloc |")
    print("| --- | --- | --- |")
    for line in lines:
        for variant in CLIENT:
            cells = []
            for figures in (glibc, mimalloc):
                cells.append(", ".join(f"{float(figures[line + (variant, level)]['ratio']):.2f}x"
                                       for level in LEVELS))
            print(f"| `{line[0]}`, {line[1]}: {variant}, throughput over the hand-written call's | "
                  + " | ".join(cells) + " |")
        cells = []
        for figures in (glibc, mimalloc):
            cells.append(", ".join(f"{float(figures[line + (REFERENCE, level)]['calls_per_s']):,.0f}"
                                   for level in LEVELS))
        print(f"| `{line[0]}`, {line[1]}: the hand-written call, calls/s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        one_allocator(sys.argv[1])
    elif len(sys.argv) == 3:
        two_allocators(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
