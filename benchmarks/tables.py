"""The Markdown table every benchmark prints, so its output pastes straight into benchmarks/README.md."""

from __future__ import annotations


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print()
