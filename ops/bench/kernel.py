"""Kernel benchmark: start-up time, discovery + validation time, and registry overhead.

    python -m ops.bench.kernel [--seconds 5] [--rounds 3]

Each figure is reported next to a baseline measured in the same run:
- start-up of ``lumina serve`` with 8 plugins, against a bare ``uvicorn`` app;
- discovery + manifest validation of 8 plugins, against merely parsing their YAML;
- requests/s of a plugin endpoint served through the registry (with and without the host's rate
  limiter) against the same endpoint in a bare FastAPI app, loaded by ``wrk`` side by side; and
  the server's CPU time per request, read from ``/proc``, which other jobs on the machine
  disturb far less than requests/s (the server is CPU-bound, so the two ratios agree when quiet).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from lumina_core.kernel import Kernel
from lumina_core.settings import load_settings
from lumina_core.testing import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "tests" / "fixtures" / "plugins" / "fx_hello"
BIN = Path(sys.executable).parent
PLUGIN_COUNT = 8


def make_plugins(folder: Path, count: int = PLUGIN_COUNT) -> Path:
    """``count`` copies of the hello plugin under distinct names and prefixes."""
    for index in range(count):
        name = "hello" if index == 0 else f"hello{index}"
        target = folder / f"bench_{name}"
        shutil.copytree(HELLO, target, ignore=shutil.ignore_patterns("__pycache__"))
        manifest = (target / "manifest.yml").read_text().replace("name: hello", f"name: {name}")
        (target / "manifest.yml").write_text(manifest.replace("/hello/", f"/{name}/"))
    return folder


def time_until_ready(command: list[str], port: int, env: dict[str, str], path: str) -> float:
    """Seconds from spawning ``command`` until ``path`` answers 200."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=0.5).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=20)


def lumina_env(plugins: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    env.update(LUMINA_PLUGINS_DIR=str(plugins), LUMINA_DATA_DIR=str(data), LUMINA_LOG_LEVEL="WARNING")
    # The limiter keeps running (its cost is part of the host) but never refuses wrk's load.
    env.update(LUMINA_RATE_LIMIT="1000000000/minute")
    return env


def bench_startup(plugins: Path, data: Path, rounds: int) -> tuple[float, float]:
    lumina, bare = [], []
    for _ in range(rounds):
        port = free_port()
        lumina.append(time_until_ready([str(BIN / "lumina"), "serve", "--port", str(port)], port, lumina_env(plugins, data), "/hello7/greet"))
        port = free_port()
        bare.append(time_until_ready(_uvicorn("ops.bench.bare_app:app", port), port, dict(os.environ), "/hello/greet"))
    return statistics.median(lumina), statistics.median(bare)


def bench_discovery(plugins: Path, data: Path, rounds: int = 20) -> tuple[float, float]:
    settings = load_settings(plugins_dir=plugins, data_dir=data)
    survey, parse = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        records = Kernel(settings).survey()
        survey.append(time.perf_counter() - started)
        ours = [r for r in records if r.name.startswith("hello")]
        assert len(ours) == PLUGIN_COUNT and all(r.manifest for r in ours), [r.to_dict() for r in ours]
        started = time.perf_counter()
        for manifest in plugins.glob("*/manifest.yml"):
            yaml.safe_load(manifest.read_text())
        parse.append(time.perf_counter() - started)
    return statistics.median(survey), statistics.median(parse)


@dataclass
class Load:
    """What one server did under wrk: requests/s, and CPU microseconds per request."""

    rate: float
    cpu_us: float


def bench_registry(plugins: Path, data: Path, seconds: int, rounds: int) -> dict[str, Load]:
    """The same endpoint through the host without and with its rate limiter, and in a bare
    FastAPI app, each loaded by wrk in turn, round after round."""
    if shutil.which("wrk") is None:
        sys.exit("the registry benchmark needs wrk: apt-get install wrk")
    base = {**lumina_env(plugins, data), "LUMINA_LOAD_PLUGINS": "hello"}
    targets = {
        "registry": ("lumina_core.api.app:create_app", {**base, "LUMINA_RATE_LIMIT": ""}),
        "full host": ("lumina_core.api.app:create_app", base),
        "bare": ("ops.bench.bare_app:app", dict(os.environ)),
    }
    ports = {name: free_port() for name in targets}
    servers = [
        subprocess.Popen(_uvicorn(target, ports[name], factory=target.endswith("create_app")), env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, (target, env) in targets.items()
    ]
    try:
        for port in ports.values():
            wait_for_http(f"http://127.0.0.1:{port}/hello/greet")
        loads: dict[str, list[Load]] = {name: [] for name in targets}
        for _ in range(rounds):  # alternate, so drift on the machine hits all alike
            for (name, port), server in zip(ports.items(), servers):
                loads[name].append(_load(server.pid, port, seconds))
        return {
            name: Load(statistics.median(l.rate for l in runs), statistics.median(l.cpu_us for l in runs))
            for name, runs in loads.items()
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def _uvicorn(target: str, port: int, *, factory: bool = False) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return command + (["--factory"] if factory else [])


def _load(pid: int, port: int, seconds: int) -> Load:
    cpu_before = _cpu_seconds(pid)
    output = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", f"http://127.0.0.1:{port}/hello/greet"],
        capture_output=True, text=True, check=True,
    ).stdout
    cpu = _cpu_seconds(pid) - cpu_before
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    assert rate and done, output
    return Load(float(rate.group(1)), cpu / int(done.group(1)) * 1e6)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        plugins, data = make_plugins(Path(scratch) / "plugins"), Path(scratch) / "data"
        plugins.mkdir(exist_ok=True)
        survey, parse = bench_discovery(plugins, data)
        print(f"discovery+validation of {PLUGIN_COUNT} plugins: {survey * 1000:.1f} ms "
              f"(YAML parsing alone {parse * 1000:.1f} ms; ratio {survey / parse:.1f}x; target < 50 ms)")
        lumina, bare = bench_startup(plugins, data, args.rounds)
        print(f"start-up to first answer, {PLUGIN_COUNT} plugins: lumina serve {lumina:.2f} s, "
              f"bare uvicorn app {bare:.2f} s (ratio {lumina / bare:.2f}x; target < 1 s)")
        loads = bench_registry(plugins, data, args.seconds, args.rounds)
        bare, registry, full = loads["bare"], loads["registry"], loads["full host"]
        print(f"plugin endpoint, req/s: registry {registry.rate:,.0f} ({registry.rate / bare.rate:.0%}), "
              f"full host with rate limits {full.rate:,.0f} ({full.rate / bare.rate:.0%}), "
              f"bare FastAPI {bare.rate:,.0f} (target: registry >= 90% of bare)")
        print(f"server CPU per request: registry {registry.cpu_us:.0f} µs ({bare.cpu_us / registry.cpu_us:.0%} "
              f"of bare's requests per CPU second), full host {full.cpu_us:.0f} µs ({bare.cpu_us / full.cpu_us:.0%}), "
              f"bare FastAPI {bare.cpu_us:.0f} µs")

if __name__ == "__main__":
    main()
