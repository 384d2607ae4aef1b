"""Loading the embedded llama.cpp model so that it reads prompts in batches without crashing.

A llama-cpp-python 0.3.36 build crashed (SIGSEGV) on every prompt batch larger than one token on
CPUs with AMX (Sapphire Rapids class): llama.cpp repacks the weights into its AMX buffer type,
and its AMX matrix multiply faults (ggml-org/llama.cpp#20824; dspy dropped the AMX variant for
the same crash). Batches do not use that path on other CPUs, so the same version built elsewhere
reads prompts in batches of 512, two to three times faster than one token at a time.
:func:`load_llama` therefore loads models without llama.cpp's extra buffer types (AMX, and the
weight repacking no quantisation we ship uses), which reads batches correctly on those CPUs too.

A crash cannot be caught inside the server, so a child process still reads a few prompts in
batches first. Its verdict is cached per llama_cpp version, model file, thread count, CPU and
loading mode; a child that crashes (or fails, or hangs) means prompts are read one token at a
time, with a warning saying how to override it.

    python -m lumina_core.services.llm.batch_probe MODEL.gguf --threads 2 --context 2048
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumina_core.storage import write_atomically

log = logging.getLogger("lumina.llm")

#: llama.cpp's own default ``n_ubatch``.
BATCHED = 512
#: One token at a time: slower prompt reading, but it never hit the crash.
ONE_TOKEN = 1
#: Part of the verdict's key: a verdict on models loaded another way says nothing about these.
LOADING = "without extra buffer types"
PROBE_TIMEOUT_S = 300.0


def default_cache_file() -> Path:
    """Under the user's cache folder, not the data folder: the verdict belongs to this machine,
    the installed llama.cpp and the model file rather than to anyone's data, deleting it only
    costs a new probe, and every data folder (tests make many) shares it."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lumina" / "llama-prompt-batch.json"


def probe_key(model: Path, threads: int) -> str:
    """What the verdict depends on: the library, the model file, the threads and the CPU."""
    import llama_cpp

    stat = model.stat()
    parts = [llama_cpp.__version__, model.resolve(), stat.st_size, int(stat.st_mtime), threads, _cpu(), LOADING]
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:16]


def _cpu() -> str:
    """The CPU's model and feature flags: llama.cpp chooses its kernels and weight layouts by them."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    return "\n".join(dict.fromkeys(line for line in lines if line.startswith(("model name", "flags"))))


def probe_command(model: Path, threads: int, context: int) -> list[str]:
    return [sys.executable, "-m", __name__, str(model), "--threads", str(threads), "--context", str(context)]


def safe_prompt_batch(
    model: Path,
    threads: int,
    context: int,
    *,
    cache: Path | None = None,
    command: Sequence[str] | None = None,
) -> int:
    """``BATCHED`` when a child process read prompts in batches with this build, else
    ``ONE_TOKEN``; the child runs only when no verdict is cached for this machine and model."""
    cache = cache or default_cache_file()
    key = probe_key(model, threads)
    verdicts = _read(cache)
    if key not in verdicts:
        log.info("checking that llama.cpp reads prompts in batches of %d on this machine (once)", BATCHED)
        verdicts[key] = _run_probe(command or probe_command(model, threads, context))
        _write(cache, verdicts)
    verdict = verdicts[key]
    if verdict["ok"]:
        return BATCHED
    log.warning(
        "llama.cpp failed to read a prompt in batches of %d in a probe process (%s): the embedded "
        "model reads prompts one token at a time, which is slower. Set LUMINA_LLM_PROMPT_BATCH to "
        "override; the verdict is kept in %s",
        BATCHED, verdict["detail"], cache,
    )
    return ONE_TOKEN


def _run_probe(command: Sequence[str]) -> dict[str, Any]:
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "detail": f"no answer within {PROBE_TIMEOUT_S:g} s"}
    if done.returncode == 0:
        return {"ok": True, "detail": "read prompts in batches"}
    if done.returncode < 0:
        return {"ok": False, "detail": f"killed by {signal.Signals(-done.returncode).name}"}
    tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
    return {"ok": False, "detail": f"exit status {done.returncode}: {tail[0]}"}


def _read(cache: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}


def _write(cache: Path, verdicts: dict[str, dict[str, Any]]) -> None:
    try:
        write_atomically(cache, json.dumps(verdicts, indent=1))
    except OSError as exc:
        log.warning("could not keep the llama.cpp probe's verdict in %s: %s", cache, exc)


def load_llama(model: Path, *, context: int, threads: int, prompt_batch: int, **options: Any) -> Any:
    """A ``llama_cpp.Llama`` without llama.cpp's extra buffer types (see above). llama-cpp-python
    0.3.36 does not expose ``use_extra_bufts``, so its default model parameters are amended for
    the duration of the load; callers load one model at a time (the embedded provider holds a
    lock)."""
    import llama_cpp.llama_cpp as bindings
    from llama_cpp import Llama

    defaults = bindings.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = without_extra_buffers
    try:
        return Llama(model_path=str(model), n_ctx=context, n_threads=threads, n_ubatch=prompt_batch, verbose=False,
                     **options)
    finally:
        bindings.llama_model_default_params = defaults


def read_prompts_in_batches(model: Path, threads: int, context: int) -> None:
    """What the child does: read a very short, a short and a long prompt (the broken build
    crashed on any batch of more than one token)."""
    llama = load_llama(model, context=context, threads=threads, prompt_batch=BATCHED)
    try:
        word = llama.tokenize(b" word", add_bos=False)
        for length in (2, 16, min(300, context - 1)):
            llama.reset()
            llama.eval((word * length)[:length])
    finally:
        llama.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--context", type=int, required=True)
    args = parser.parse_args()
    read_prompts_in_batches(args.model, args.threads, args.context)


if __name__ == "__main__":
    main()
