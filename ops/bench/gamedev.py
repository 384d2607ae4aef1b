"""game-dev-agent: files indexed per second, and Q&A hit@3 on the sample projects' own questions.

Over the sample projects the plugin's tests use (``plugins/game-dev-agent/tests/data``: a Unity
platformer, an Unreal shooter), side by side on the same files and questions:

* **game-dev-agent**: the tree-sitter splitter, the knowledge index (hybrid BM25 + dense, in the
  project's own scope) and the line picker, through the API (``POST /gamedev/projects?wait=true``,
  then ``POST /gamedev/projects/{id}/ask``), once the dense vectors are in;
* **baseline, lines+BM25**: fixed 30-line chunks, plain word tokens, BM25 (bm25s); a hit when a
  top-3 chunk *contains* an expected line (lenient: the chunk is 30 lines, not one cited line);
* **baseline, grep**: every line ranked by how many of the question's words it contains (what
  ``grep -c`` per word would give); a hit when a top-3 line is an expected line.

Our hit needs the *cited line* inside the expected range. Files/s: words-searchable (what
``wait=true`` waits for) and with dense vectors complete, over the two samples; words-searchable
again over a larger Unity project (``--copies`` copies of the samples' C# files, scenes and
prefabs, so the one-time cost of opening a project's scope is spread); the splitter alone, repeated.

    .venv/bin/python -m ops.bench.gamedev            # about a minute on 2 cores
    .venv/bin/python -m ops.bench.gamedev --repeat 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s

from lumina_core.testing import Host, host_settings, running_host

DATA = Path(__file__).resolve().parents[2] / "plugins" / "game-dev-agent" / "tests" / "data"
PROJECTS = ("SkyHopper", "ShooterDemo")
BASELINE_LINES = 30
DENSE_TIMEOUT_S = 180.0
WORD = re.compile(r"[a-z0-9]+")
STOP = {"the", "a", "an", "is", "of", "to", "in", "does", "do", "what", "which", "where", "how", "when", "set", "are",
        "on", "by", "and", "for", "it", "its", "s"}


def expected(question: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(e["file"], e["lines"][0], e["lines"][1]) for e in question["expect"]]


def line_hit(question: dict[str, Any], cites: Sequence[tuple[str, int]]) -> bool:
    return any(f == file and a <= line <= b for file, line in cites for f, a, b in expected(question))


def range_hit(question: dict[str, Any], ranges: Sequence[tuple[str, int, int]]) -> bool:
    return any(f == file and start <= a and b <= end for file, start, end in ranges for f, a, b in expected(question))


# --- the plugin --------------------------------------------------------------------------------


async def ours(root: Path, questions: list[dict[str, Any]], copies: int, show_misses: bool = False) -> dict[str, Any]:
    async with running_host(host_settings(root / "data", ["knowledge", "game-dev-agent"])) as host:
        figures: dict[str, Any] = {"files": 0, "searchable_s": 0.0, "dense_s": 0.0}
        ids: dict[str, str] = {}
        await host.kernel.services.get("embedder").embed(["warm the model up before timing"])
        for name in PROJECTS:
            started = time.perf_counter()
            response = await host.client.post("/gamedev/projects", params={"wait": "true"},
                                              json={"path": str(root / name)}, timeout=600)
            response.raise_for_status()
            figures["searchable_s"] += time.perf_counter() - started
            project = response.json()
            ids[name] = project["id"]
            figures["files"] += project["files"]
            await _dense_complete(host, project["id"])
            figures["dense_s"] += time.perf_counter() - started
        hits1 = hits3 = 0
        latencies = []
        for question in questions:
            started = time.perf_counter()
            answer = (await host.client.post(f"/gamedev/projects/{ids[question['project']]}/ask",
                                             json={"question": question["question"], "k": 3})).json()
            latencies.append(time.perf_counter() - started)
            cites = [(c["file"], c["line"]) for c in answer["citations"]]
            hits1 += line_hit(question, cites[:1])
            hits3 += line_hit(question, cites)
            if show_misses and not line_hit(question, cites):
                print(f"miss: {question['question']} -> {', '.join(f'{f}:{n}' for f, n in cites)}")
        figures.update(hit1=hits1 / len(questions), hit3=hits3 / len(questions),
                       ask_ms=1000 * sorted(latencies)[len(latencies) // 2])
        if copies:
            big = larger_project(root, copies)
            started = time.perf_counter()
            response = await host.client.post("/gamedev/projects", params={"wait": "true"}, json={"path": str(big)},
                                              timeout=600)
            response.raise_for_status()
            figures.update(large_files=response.json()["files"], large_s=time.perf_counter() - started)
        return figures


def larger_project(root: Path, copies: int) -> Path:
    """A Unity project holding ``copies`` copies of the samples' C# files, scenes and prefabs."""
    big = shutil.copytree(root / "SkyHopper", root / "Large")
    for n in range(copies):
        for name in PROJECTS:
            for path in (root / name).rglob("*"):
                if path.suffix in {".cs", ".unity", ".prefab"}:
                    target = big / "Assets" / "Copies" / f"{name}{n}" / path.relative_to(root / name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
    return big


async def _dense_complete(host: Host, project_id: str) -> None:
    deadline = time.monotonic() + DENSE_TIMEOUT_S
    while (await host.client.get(f"/gamedev/projects/{project_id}")).json()["pending_dense"] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def splitter_rate(root: Path, repeat: int) -> float:
    """Files per second through the splitter alone (parse, chunk, symbols, lint)."""
    from lumina_gamedev.engines import detect
    from lumina_gamedev.splitter import outline_file

    files = [(p.relative_to(root / name).as_posix(), p.read_text(encoding="utf-8"))
             for name in PROJECTS for p in detect(root / name).files(root / name)]
    started = time.perf_counter()
    for _ in range(repeat):
        for relative, content in files:
            outline_file(relative, content)
    return repeat * len(files) / (time.perf_counter() - started)


# --- the baselines -----------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


def project_lines(root: Path, name: str) -> list[tuple[str, list[str]]]:
    from lumina_gamedev.engines import detect

    return [(p.relative_to(root / name).as_posix(), p.read_text(encoding="utf-8").splitlines())
            for p in detect(root / name).files(root / name)]


def bm25_baseline(root: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    indexes, files = {}, 0
    for name in PROJECTS:
        chunks = [(file, start + 1, min(start + BASELINE_LINES, len(lines)), "\n".join(lines[start : start + BASELINE_LINES]))
                  for file, lines in project_lines(root, name) for start in range(0, max(len(lines), 1), BASELINE_LINES)]
        files += len({c[0] for c in chunks})
        retriever = bm25s.BM25()
        retriever.index([words(c[3]) or ["empty"] for c in chunks], show_progress=False)
        indexes[name] = (retriever, chunks)
    seconds = time.perf_counter() - started
    hits3 = hits1 = 0
    for question in questions:
        retriever, chunks = indexes[question["project"]]
        found, _ = retriever.retrieve([words(question["question"]) or ["empty"]], k=min(3, len(chunks)), show_progress=False)
        ranges = [chunks[i][:3] for i in found[0]]
        hits1 += range_hit(question, ranges[:1])
        hits3 += range_hit(question, ranges)
    return {"files": files, "searchable_s": seconds, "hit1": hits1 / len(questions), "hit3": hits3 / len(questions)}


def grep_baseline(root: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    lines = {name: [(file, n, set(words(line))) for file, content in project_lines(root, name)
                    for n, line in enumerate(content, 1)] for name in PROJECTS}
    hits3 = hits1 = 0
    for question in questions:
        asked = set(words(question["question"]))
        ranked = sorted(lines[question["project"]], key=lambda item: -len(asked & item[2]))[:3]
        cites = [(file, n) for file, n, _ in ranked]
        hits1 += line_hit(question, cites[:1])
        hits3 += line_hit(question, cites)
    return {"hit1": hits1 / len(questions), "hit3": hits3 / len(questions)}


# --- the report --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="Passes of the splitter-only timing.")
    parser.add_argument("--copies", type=int, default=5, help="Copies of the samples in the larger project (0: none).")
    parser.add_argument("--show-misses", action="store_true", help="Print the questions game-dev-agent missed.")
    args = parser.parse_args()
    by_project = json.loads((DATA / "questions.json").read_text())
    questions = [{**q, "project": name} for name in PROJECTS for q in by_project[name]]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in PROJECTS:
            shutil.copytree(DATA / name, root / name)
        plugin = asyncio.run(ours(root, questions, args.copies, args.show_misses))
        lines_bm25 = bm25_baseline(root, questions)
        grep = grep_baseline(root, questions)
        split = splitter_rate(root, args.repeat)
    n = len(questions)
    print(f"{plugin['files']} files, {n} questions ({', '.join(f'{len(by_project[p])} {p}' for p in PROJECTS)})\n")
    print("| | files/s indexed | hit@1 | hit@3 |")
    print("| --- | --- | --- | --- |")
    print(f"| game-dev-agent (words searchable / dense complete) | {plugin['files'] / plugin['searchable_s']:.1f} / "
          f"{plugin['files'] / plugin['dense_s']:.1f} | {plugin['hit1']:.2f} | {plugin['hit3']:.2f} |")
    print(f"| baseline: {BASELINE_LINES}-line chunks + BM25 (hit = chunk contains the lines) | "
          f"{lines_bm25['files'] / lines_bm25['searchable_s']:.0f} | {lines_bm25['hit1']:.2f} | {lines_bm25['hit3']:.2f} |")
    print(f"| baseline: grep (lines by question words) | - | {grep['hit1']:.2f} | {grep['hit3']:.2f} |")
    if args.copies:
        print(f"\nlarger project ({plugin['large_files']} files): {plugin['large_files'] / plugin['large_s']:.1f} files/s "
              f"words-searchable")
    print(f"splitter alone (tree-sitter parse, chunks, symbols, lint): {split:.0f} files/s; "
          f"ask: {plugin['ask_ms']:.0f} ms median")
    print(f"hit@3 ratio: {plugin['hit3'] / max(lines_bm25['hit3'], 1e-9):.2f}x lines+BM25, "
          f"{plugin['hit3'] / max(grep['hit3'], 1e-9):.2f}x grep")


if __name__ == "__main__":
    main()
