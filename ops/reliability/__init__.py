"""The reliability suite: tries to break Lumina's promises and measures that it does not.

    make reliability            (python -m ops.reliability [--seconds 10])

Each scenario starts real ``lumina serve`` / ``lumina worker`` processes on 127.0.0.1 (and, for the
outage, its own ``redis-server`` on a free port: the shared one on 6379 is never stopped), runs for
a bounded time and returns its figures; ``tests/reliability/`` runs the same scenarios smaller,
with the promises as assertions, inside ``make test``.

- ``faults``: plugins failing at import, in setup, in a hook, in a route and hanging at start;
  the host keeps serving every other route under load.
- ``crash``: SIGKILL of the server mid-write and of a worker mid-task: no acknowledged write or
  task is lost.
- ``outage``: Redis stopped and started while serving: /health degraded, then ok; no acknowledged
  event lost.
- ``load``: chat, memory search and knowledge search under concurrent clients (wrk), beside the
  same load on a bare FastAPI app.
- ``fuzz``: schemathesis over /openapi.json: no server errors.
"""

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: Test plugins: every kind of broken one (tests/fixtures) and the suite's own probe.
FIXTURE_PLUGINS = REPO / "tests" / "fixtures" / "plugins"
PROBE_PLUGINS = REPO / "tests" / "reliability" / "plugins"


def probe_journal(data_dir: Path, name: str) -> list[dict[str, Any]]:
    """What the probe plugin noted in ``<data>/plugins/rel-probe/<name>`` (``received.jsonl``, ``tasks.jsonl``)."""
    path = data_dir / "plugins" / "rel-probe" / name
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
