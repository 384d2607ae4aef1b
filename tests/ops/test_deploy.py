"""The compose stack's configuration (ops/): Docker cannot run here, so it is checked by reading it.

The compose file is valid YAML with a health check on every service; Prometheus scrapes
Lumina's /metrics; every metric an alert rule or a dashboard panel names is one the running app
really exports (read from its /metrics), or one of the exporters the stack runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

OPS = Path(__file__).resolve().parents[2] / "ops"
COMPOSE = OPS / "compose.yml"
PROMETHEUS = OPS / "prometheus" / "prometheus.yml"
ALERTS = OPS / "prometheus" / "alerts.yml"
DASHBOARD = OPS / "grafana" / "dashboards" / "lumina.json"
DATASOURCE = OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
#: Series that Prometheus itself (``up``) or the stack's redis-exporter provide.
EXPORTER_SERIES = {"up", "redis_up"}
_SERIES_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                    "summary": ("_sum", "_count", "_created"), "gauge": ("",)}
_NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


@pytest.fixture
async def exported(lumina_host) -> set[str]:
    """Every series name the running app exports, read from its own /metrics."""
    async with lumina_host(plugins=["memory", "knowledge", "crawler"]) as host:
        await host.client.get("/health")
        text = (await host.client.get("/metrics")).text
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in _SERIES_SUFFIXES.get(family.type, ("",)))
    return names


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression reads (labels, strings, functions and keywords left out)."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_groupings)
    words = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?", without_ranges)
    return {word for word, call in words if not call and word not in _NOT_METRICS}


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text("utf-8"))["groups"] for rule in group["rules"]]


def panel_queries() -> dict[str, list[str]]:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    return {panel["title"]: [t["expr"] for t in panel["targets"]] for panel in dashboard["panels"]}


def test_the_stack_has_every_service_each_with_a_health_check(compose) -> None:
    services = compose["services"]
    assert {"lumina", "worker", "redis", "qdrant", "ollama", "prometheus", "grafana"} <= set(services)
    assert [name for name, service in services.items() if "test" not in service.get("healthcheck", {})] == []
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"][:2] == ["lumina", "worker"]
    assert services["lumina"]["environment"]["LUMINA_TASK_WORKERS"] == "0"  # the workers run the tasks


def test_what_the_stack_builds_and_mounts_exists(compose) -> None:
    build = compose["services"]["lumina"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), volume
            else:
                assert source in compose["volumes"], volume


def test_prometheus_scrapes_lumina_and_loads_the_rules() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text("utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["lumina"]["metrics_path"] == "/metrics"
    assert jobs["lumina"]["static_configs"][0]["targets"] == ["lumina:8000"]
    assert {"lumina-worker", "redis"} <= set(jobs)
    assert (PROMETHEUS.parent / config["rule_files"][0]).resolve() == ALERTS.resolve()


def test_promtool_accepts_the_config_and_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("this test needs promtool, from Debian's prometheus package: apt-get install -y prometheus")
    for command in (["check", "config", str(PROMETHEUS)], ["check", "rules", str(ALERTS)]):
        checked = subprocess.run([promtool, *command], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_cover_the_seeds_list() -> None:
    exprs = {rule["alert"]: rule["expr"] for rule in rules()}
    assert "lumina_http_requests_total" in exprs["LuminaHighErrorRate"] and '"5.."' in exprs["LuminaHighErrorRate"]
    assert "lumina_http_request_duration_seconds_bucket" in exprs["LuminaSlowRequests"]
    assert "lumina_task_queue_depth" in exprs["LuminaTaskQueueBacklog"]
    assert 'state="failed"' in exprs["LuminaPluginFailed"]
    assert "redis_up" in exprs["RedisDown"]
    assert all(rule["annotations"]["summary"] and rule["annotations"]["description"] for rule in rules())


def test_every_alert_reads_metrics_the_app_or_the_stack_exports(exported: set[str]) -> None:
    for rule in rules():
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        unknown = {n for n in names if n not in exported and n not in EXPORTER_SERIES}
        assert not unknown, f"{rule['alert']} reads {unknown}, which nothing in the stack exports"


def test_every_dashboard_panel_queries_a_metric_lumina_exports(exported: set[str]) -> None:
    queries = panel_queries()
    assert len(queries) >= 10
    for title, exprs in queries.items():
        names = {name for expr in exprs for name in metric_names(expr)}
        assert names and all(name.startswith("lumina_") for name in names), title
        assert names <= exported, f"panel {title!r} reads {names - exported}, which Lumina does not export"


def test_the_dashboard_uses_the_provisioned_datasource() -> None:
    [source] = yaml.safe_load(DATASOURCE.read_text("utf-8"))["datasources"]
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {source["uid"]}


def test_the_metric_name_reader_skips_functions_labels_and_keywords() -> None:
    expr = 'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route!~"/x.*"}[5m]))) > 2 or up{job="b"} == 0'
    assert metric_names(expr) == {"a_bucket", "up"}
