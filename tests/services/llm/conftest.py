"""A real third-party OpenAI-compatible peer: llama-cpp-python's own server, on a free port."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from lumina_core.services.model_files import SMOLLM2_135M

PEER_MODEL = "smollm2-peer"


@pytest.fixture(scope="session")
def llama_cpp_server(pick_free_port) -> str:
    """``http://127.0.0.1:<port>/v1`` of ``python -m llama_cpp.server`` serving SmolLM2 as ``smollm2-peer``."""
    port = pick_free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(SMOLLM2_135M.locate()),
        "--model_alias", PEER_MODEL, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_ubatch", "1", "--n_threads", "2", "--verbose", "false",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("llama_cpp.server did not answer within 60 s")
