"""Q&A: the sample projects' own questions answered with file:line citations that resolve to
the very lines of the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The share of each project's questions whose answer must be among the first three citations
#: (the benchmark, ops/bench/gamedev.py, reports the figure and its baselines).
MIN_HIT_AT_3 = 0.8


def cited_lines_hit(question: dict[str, Any], citations: list[dict[str, Any]]) -> bool:
    return any(c["file"] == e["file"] and e["lines"][0] <= c["line"] <= e["lines"][1]
               for c in citations for e in question["expect"])


async def ask(host, project_id: str, question: str, k: int = 3) -> dict[str, Any]:
    response = await host.client.post(f"/gamedev/projects/{project_id}/ask", json={"question": question, "k": k})
    assert response.status_code == 200, response.text
    return response.json()


async def test_where_the_players_jump_height_is_set_is_cited_to_its_line(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        answer = await ask(host, project["id"], "Where is the player's jump height set?")
        first = answer["citations"][0]
        assert first["cite"] == "Assets/Scripts/PlayerController.cs:11"
        assert first["code"] == "[SerializeField] private float jumpHeight = 2.5f;"
        assert answer["answer"].startswith("Assets/Scripts/PlayerController.cs:11, in PlayerController fields")


async def test_the_projects_own_questions_are_answered_and_every_cite_resolves(
        gamedev_host, unity_project: Path, unreal_project: Path, questions, kit) -> None:
    async with gamedev_host() as host:
        for root in (unity_project, unreal_project):
            project = await kit.register(host, root)
            await kit.dense_complete(host, project["id"])
            asked = questions[root.name]
            hits = 0
            for question in asked:
                answer = await ask(host, project["id"], question["question"])
                assert 1 <= len(answer["citations"]) <= 3
                for citation in answer["citations"]:
                    lines = (root / citation["file"]).read_text().splitlines()
                    assert citation["code"] == lines[citation["line"] - 1].strip()
                    assert citation["snippet"] == "\n".join(lines[citation["start_line"] - 1 : citation["end_line"]])
                    assert citation["start_line"] <= citation["line"] <= citation["end_line"]
                hits += cited_lines_hit(question, answer["citations"])
            assert hits / len(asked) >= MIN_HIT_AT_3, (root.name, hits, len(asked))


async def test_questions_stay_inside_their_project(gamedev_host, unity_project, unreal_project, kit) -> None:
    async with gamedev_host() as host:
        unity = await kit.register(host, unity_project)
        await kit.register(host, unreal_project)
        answer = await ask(host, unity["id"], "Where is the sprint speed set?", k=10)
        assert answer["citations"] and all(c["file"].startswith(("Assets/", "ProjectSettings/")) for c in answer["citations"])


async def test_an_empty_or_oversized_question_is_refused(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        empty = await host.client.post(f"/gamedev/projects/{project['id']}/ask", json={"question": ""})
        too_many = await host.client.post(f"/gamedev/projects/{project['id']}/ask", json={"question": "jump", "k": 99})
        assert (empty.status_code, empty.json()["error"]["field"]) == (422, "question")
        assert (too_many.status_code, too_many.json()["error"]["field"]) == (422, "k")


async def test_the_model_may_word_the_answer_from_the_same_citations(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host(llm_timeout=900.0) as host:  # the embedded model on 2 shared cores: slow, not wrong
        project = await kit.register(host, unity_project)
        question = "Where is the player's jump height set?"
        plain = await ask(host, project["id"], question)
        response = await host.client.post(f"/gamedev/projects/{project['id']}/ask",
                                          json={"question": question, "phrase": True})
        phrased = response.json()
        assert phrased["mode"] == "phrased", phrased.get("phrasing_error")
        assert phrased["answer"].strip() and phrased["model"]
        assert phrased["extractive_answer"] == plain["answer"]
        assert phrased["citations"] == plain["citations"]
