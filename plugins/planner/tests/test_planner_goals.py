"""The goal file: a lattice whose sub-goals inherit, refused with every problem and its field path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lumina_planner
import pytest
from lumina_planner.goals import Crawl, load_goals

from lumina_core.plugins.manifest import ManifestInvalid

LATTICE = """
budget: {pages_per_hour: 60}
default_priority: 0.2
goals:
  - name: science
    priority: 0.6
    topics: [Physics]
    crawl: {hops: 1, max_nodes: 5}
    budget: {pages_per_hour: 30}
    goals:
      - {name: spaceflight, priority: 0.9, topics: [Apollo program, Astronaut], crawl: {max_nodes: 8}}
  - {name: film, topics: [Film director]}
"""

BROKEN = """
budget: {pages_per_hour: -1}
goals:
  - name: Science!
    priority: 2
    topics: Physics
    colour: blue
  - priority: 0.5
"""


def write(tmp_path, text: str):
    path = tmp_path / "goals.yml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_sub_goals_inherit_crawl_settings_and_budget_and_add_their_own(tmp_path):
    goals = load_goals(write(tmp_path, LATTICE))
    _science, spaceflight, film = goals.goals
    assert goals.pages_per_hour == 60 and goals.default_priority == 0.2
    assert spaceflight.label == "science/spaceflight" and spaceflight.priority == 0.9
    assert spaceflight.crawl == Crawl(hops=1, max_nodes=8, seeds=2) and spaceflight.pages_per_hour == 30
    assert film.crawl == Crawl() and film.priority == 0.5 and film.pages_per_hour is None
    assert [t for _, t in goals.topics] == ["Physics", "Apollo program", "Astronaut", "Film director"]


def test_no_goal_file_means_the_built_in_defaults():
    goals = load_goals(None)
    assert goals.goals == () and goals.pages_per_hour == 120 and goals.source == "built-in defaults"


def test_a_bad_goal_file_is_refused_with_one_line_per_problem_and_its_field_path(tmp_path):
    with pytest.raises(ManifestInvalid) as refused:
        load_goals(write(tmp_path, BROKEN))
    lines = str(refused.value).splitlines()
    fields = [line.split(": ")[1] for line in lines]
    assert fields == ["budget.pages_per_hour", "goals[0].colour", "goals[0].name", "goals[0].priority",
                      "goals[0].topics", "goals[1].name"]
    assert all(line.startswith(str(tmp_path / "goals.yml")) for line in lines)
    assert "unknown field; allowed fields are" in lines[1] and "is required" in lines[5]
    assert "expected a list, found text 'Physics'" in lines[4]


def test_a_goal_file_that_is_not_yaml_names_the_line(tmp_path):
    with pytest.raises(ManifestInvalid, match=r"goals.yml: line 3, column 1: is not valid YAML"):
        load_goals(write(tmp_path, "goals:\n  - {name: film\n"))


async def test_the_planner_refuses_to_start_on_a_bad_goal_file_and_the_host_carries_on(loop_host, tmp_path):
    path = write(tmp_path, BROKEN)
    async with loop_host(goal_file=str(path)) as host:
        assert host.state("planner") == "failed" and host.state("knowledge") == "started"
        plugin = (await host.client.get("/plugins/planner")).json()
        assert "goals[0].priority" in plugin["error"] and "goals[1].name: is required" in plugin["error"]
        response = await host.client.get("/planner/status")
        assert response.status_code == 503


def test_plugin_check_reports_the_goal_files_problems_like_a_manifests(tmp_path):
    path = write(tmp_path, BROKEN)
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data"),
           "LUMINA_PLUGIN_CONFIG__PLANNER__GOAL_FILE": str(path)}
    folder = Path(lumina_planner.__file__).parents[2]
    run = subprocess.run([sys.executable, "-m", "lumina_cli", "plugin", "check", str(folder)], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.splitlines()
    assert f"{path}: goals[0].priority: 2 is greater than the maximum of 1" in lines
    assert f"{path}: goals[1].name: is required" in lines
    good = write(tmp_path, LATTICE)
    run = subprocess.run([sys.executable, "-m", "lumina_cli", "plugin", "check", str(folder)],
                         env={**env, "LUMINA_PLUGIN_CONFIG__PLANNER__GOAL_FILE": str(good)},
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0 and run.stdout.startswith("ok: planner 0.1.0"), run.stderr
