"""Puts a benchmark table produced by `make bench` into README.md's "## Benchmarks" section.

    python3 bench/update_readme.py [bench/results/latest.md]

Replaces what lies between the README's `<!-- bench:begin -->` and `<!-- bench:end -->`
markers with that file's header lines and table; the rest of the README is left alone.
Standard library only.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "bench", "results", "latest.md")
    with open(source) as f:
        lines = f.read().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    body = "\n".join(lines).strip("\n")

    readme = os.path.join(ROOT, "README.md")
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"README.md has no {BEGIN} ... {END} markers (in its ## Benchmarks section)")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as f:
        f.write(f"{head}{BEGIN}\n{body}\n{END}{tail}")
    print(f"README.md: table from {os.path.relpath(source, ROOT)}")


if __name__ == "__main__":
    main()
