"""Fuzz: schemathesis sends requests generated from ``/openapi.json`` to a running host with
plugins; no answer may be a server error (5xx) or break the response schema's status codes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lumina_core.testing import LuminaProcess

#: Routes that stream forever or run the language model: fuzzed for their input checks elsewhere.
EXCLUDED_PATHS = (r"^/(events|stream|v1/chat|api/chat|api/generate|chat|memory/chat|threads/$|threads/\{thread_id\}/chat"
                  r"|masterchat|admin/freeze)")


def run_fuzz(examples: int = 20, seconds: float = 600.0, plugins: str = "memory,knowledge,crawler") -> dict[str, Any]:
    """Run ``schemathesis run`` with the not_a_server_error check; figures from its summary."""
    executable = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    folder = Path(tempfile.mkdtemp(prefix="lumina-fuzz-"))
    server = LuminaProcess.serve(folder / "data", folder / "serve.log", load_plugins=plugins, rate_limit="")
    command = [
        executable, "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error",
        "--max-examples", str(examples), "--exclude-path-regex", EXCLUDED_PATHS, "--request-timeout", "20",
        "--no-color", "--max-failures", "50",
    ]
    try:
        ran = subprocess.run(command, capture_output=True, text=True, timeout=seconds, cwd=folder)  # its cache too
        output = ran.stdout + ran.stderr
    except subprocess.TimeoutExpired as exc:
        output = f"{_text(exc.stdout)}{_text(exc.stderr)}\nstopped after {seconds:g} s"
    finally:
        server.stop()
    (folder / "schemathesis.txt").write_text(output)
    cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?(?:, (\d+) errored)?", output)
    tested = re.search(r"Tested: (\d+)", output)
    generated, passed, failed, errored = (int(n or 0) for n in cases.groups()) if cases else (0, 0, 0, 0)
    return {
        "operations_tested": int(tested.group(1)) if tested else 0,
        "requests_generated": generated,
        "passed": passed,
        "server_errors": failed,  # the only check run is not_a_server_error
        "no_answer_in_time": errored,
        "server_errors_found": failed > 0,
        "finished_in_time": cases is not None,
        "report": str(folder / "schemathesis.txt"),
    }


def _text(output: bytes | str | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""
