"""``python -m ops.bench``: every area's benchmark in turn, each with its default options.

Each runs in its own process, so one area's models and servers do not disturb the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AREAS = sorted(
    path.stem
    for path in Path(__file__).parent.glob("*.py")
    if path.stem not in {"__init__", "__main__", "bare_app"}
)


def main() -> int:
    failed = []
    for area in AREAS:
        print(f"\n== {area} ==", flush=True)
        if subprocess.run([sys.executable, "-m", f"ops.bench.{area}"]).returncode != 0:
            failed.append(area)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
