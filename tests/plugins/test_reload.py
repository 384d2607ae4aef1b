"""In-process hot reload: one plugin's new code serves at once; broken code never replaces working code.

Every test edits a private copy of the fixture plugin ``hello`` (``plugins_copy``) and reloads it
through ``POST /plugins/{name}/reload``, the call ``lumina dev`` makes on a saved file.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from lumina_core.hookspecs import hookimpl
from lumina_core.testing import plugin_object

GREETING_LINE = """return {"message": f"{ctx.config['greeting']}, {name}"}"""


class Neighbour:
    """Another plugin, defined in the test, whose route must keep answering during reloads."""

    @hookimpl
    def register_routes(self, ctx):
        router = ctx.router()

        @router.get("/ping")
        async def ping() -> dict[str, str]:
            return {"pong": "yes"}

        return router


NEIGHBOUR = plugin_object(
    Neighbour(),
    {
        "name": "neighbour",
        "version": "1.0.0",
        "description": "Answers while others reload.",
        "api_version": ">=1.0",
        "endpoints": [{"path": "/neighbour/ping", "method": "GET"}],
    },
)


@pytest.fixture
def hello_dir(plugins_copy: Path) -> Path:
    return plugins_copy / "fx_hello"


@pytest.fixture
def host(lumina_host, plugins_copy: Path):
    def start(*names: str):
        return lumina_host(plugins=names, objects=[NEIGHBOUR], plugins_dir=plugins_copy)

    return start


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


async def reload(h, name: str = "hello") -> dict:
    response = await h.client.post(f"/plugins/{name}/reload")
    assert response.status_code == 200, response.text
    return response.json()


async def greeting(h) -> str:
    response = await h.client.get("/hello/greet")
    assert response.status_code == 200, response.text
    return response.json()["message"]


async def test_a_changed_route_serves_the_new_code_after_reload(host, hello_dir: Path) -> None:
    async with host("hello") as h:
        assert await greeting(h) == "hello, world"
        edit(hello_dir / "__init__.py", GREETING_LINE, 'return {"message": f"bonjour, {name}"}')
        detail = await reload(h)
        assert detail["state"] == "started" and detail["error"] is None
        assert await greeting(h) == "bonjour, world"


async def test_an_edit_that_keeps_the_file_size_within_one_second_is_not_hidden_by_bytecode(
    host, hello_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CPython trusts a .pyc with the same mtime second and size; the reload must not."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    async with host("hello") as h:
        for word in ("first", "other", "third"):  # same length: same file size each time
            edit(hello_dir / "__init__.py", "{ctx.config['greeting']}", f"{word}")
            await reload(h)
            assert await greeting(h) == f"{word}, world"
            edit(hello_dir / "__init__.py", f'"{word}, ', "\"{ctx.config['greeting']}, ")


async def test_a_new_route_declared_in_the_manifest_is_served_after_reload(host, hello_dir: Path) -> None:
    async with host("hello") as h:
        assert (await h.client.get("/hello/version")).status_code == 404
        edit(
            hello_dir / "manifest.yml",
            "endpoints:\n",
            "endpoints:\n  - {path: /hello/version, method: GET, description: The code's version.}\n",
        )
        edit(
            hello_dir / "__init__.py",
            "    return router",
            '    @router.get("/version")\n    async def version():\n        return {"version": 2}\n\n    return router',
        )
        detail = await reload(h)
        assert "GET /hello/version" in detail["endpoints"]
        assert (await h.client.get("/hello/version")).json() == {"version": 2}
        assert "/hello/version" in (await h.client.get("/openapi.json")).json()["paths"]


BROKEN_CHANGES = {
    "syntax error": ("__init__.py", "async def greet(", "async def greet((", "SyntaxError"),
    "invalid manifest": ("manifest.yml", "permissions: [events:publish]", "permissions: [teleport]", "'teleport' is not a known permission"),
    "exception in startup": ("__init__.py", "STARTED.append(ctx.name)", "raise RuntimeError('cache folder is missing')", "startup failed: RuntimeError: cache folder is missing"),
    "route not declared": ("__init__.py", '@router.get("/boom")', '@router.get("/undeclared")', "does not declare"),
}


@pytest.mark.parametrize("change", BROKEN_CHANGES, ids=list(BROKEN_CHANGES))
async def test_a_broken_change_is_rolled_back_shown_and_its_fix_reloads(host, hello_dir: Path, change: str) -> None:
    file, old, broken, shown = BROKEN_CHANGES[change]
    async with host("hello") as h:
        edit(hello_dir / "__init__.py", GREETING_LINE, 'return {"message": f"v2, {name}"}')
        await reload(h)
        edit(hello_dir / file, old, broken)

        detail = await reload(h)

        assert detail["state"] == "started", "the previous version keeps serving"
        assert detail["error"].startswith("reload failed, the previous version keeps serving")
        assert shown in detail["error"] + " ".join(detail["problems"])
        assert (await h.client.get("/plugins/hello")).json()["error"] == detail["error"]
        assert await greeting(h) == "v2, world"

        edit(hello_dir / file, broken, old)
        edit(hello_dir / "__init__.py", "v2,", "v3,")
        fixed = await reload(h)
        assert fixed["state"] == "started" and fixed["error"] is None and fixed["problems"] == []
        assert await greeting(h) == "v3, world"


async def test_a_plugin_that_failed_at_start_serves_its_fixed_code_after_reload(host, plugins_copy: Path) -> None:
    setup_error = plugins_copy / "fx_setup_error"
    code = setup_error / "plugin.py"  # a submodule stays in sys.modules after a failed start
    (setup_error / "__init__.py").rename(code)
    (setup_error / "__init__.py").write_text("", "utf-8")
    async with host("setup-error") as h:
        assert h.state("setup-error") == "failed"
        assert (await h.client.get("/setup-error/x")).status_code == 503
        edit(code, "    raise ConnectionError", "    return\n    raise ConnectionError")
        edit(code, "return {}", 'return {"fixed": True}')

        detail = await reload(h, "setup-error")

        assert detail["state"] == "started" and detail["error"] is None
        assert (await h.client.get("/setup-error/x")).json() == {"fixed": True}


async def test_another_plugin_answers_every_request_while_one_reloads(host, hello_dir: Path) -> None:
    async with host("hello") as h:
        statuses: list[int] = []
        reloading = True

        async def keep_asking() -> None:
            while reloading:
                statuses.append((await h.client.get("/neighbour/ping")).status_code)
                await asyncio.sleep(0)

        asker = asyncio.create_task(keep_asking())
        for round_ in range(4):
            edit(hello_dir / "__init__.py", "async def greet(", "async def greet((")  # broken: rolled back
            await reload(h)
            edit(hello_dir / "__init__.py", "async def greet((", "async def greet(")
            await reload(h)
        reloading = False
        await asker
        assert len(statuses) > 8 and set(statuses) == {200}


async def test_a_plugin_object_registered_for_the_test_reloads_in_place(host) -> None:
    async with host() as h:
        assert (await h.client.get("/neighbour/ping")).json() == {"pong": "yes"}
        assert (await reload(h, "neighbour"))["state"] == "started"
        assert (await h.client.get("/neighbour/ping")).json() == {"pong": "yes"}


async def test_reload_refuses_what_cannot_be_reloaded_in_the_error_envelope(host) -> None:
    async with host("hello") as h:
        await h.client.post("/plugins/hello/disable")
        answers = {
            "unknown": await h.client.post("/plugins/nope/reload"),
            "built-in": await h.client.post("/plugins/core.admin/reload"),
            "disabled": await h.client.post("/plugins/hello/reload"),
        }
        await h.client.post("/plugins/hello/enable")
    assert answers["unknown"].status_code == 404
    assert answers["built-in"].status_code == 409 and "part of lumina-core" in answers["built-in"].json()["error"]["message"]
    assert answers["disabled"].status_code == 409
    assert "POST /plugins/hello/enable" in answers["disabled"].json()["error"]["message"]


async def test_the_reloading_plugin_itself_answers_or_says_it_is_reloading_never_404_or_500(host, hello_dir: Path) -> None:
    async with host("hello") as h:
        answers: list[tuple[int, str]] = []
        reloading = True

        async def keep_asking() -> None:
            while reloading:
                response = await h.client.get("/hello/greet")
                answers.append((response.status_code, response.text))
                await asyncio.sleep(0)

        asker = asyncio.create_task(keep_asking())
        for _ in range(4):
            await reload(h)
        reloading = False
        await asker
        assert {status for status, _ in answers} <= {200, 503}
        assert all("is reloading: retry in a moment" in text for status, text in answers if status == 503)


async def test_concurrent_reload_requests_run_one_after_the_other_and_all_succeed(host) -> None:
    async with host("hello") as h:
        answers = await asyncio.gather(*(h.client.post("/plugins/hello/reload") for _ in range(5)))
        assert [a.status_code for a in answers] == [200] * 5
        assert {a.json()["state"] for a in answers} == {"started"}
        assert await greeting(h) == "hello, world"


async def test_plugins_that_depend_on_the_reloaded_one_keep_serving(host, hello_dir: Path) -> None:
    async with host("hello", "dependent") as h:
        edit(hello_dir / "__init__.py", GREETING_LINE, 'return {"message": f"v2, {name}"}')
        assert (await reload(h))["error"] is None
        assert h.state("dependent") == "started"
        assert (await h.client.get("/dependent/ping")).json() == {"pong": True}


async def test_a_new_version_that_would_break_a_dependent_is_rolled_back(host, hello_dir: Path) -> None:
    async with host("hello", "dependent") as h:
        edit(hello_dir / "manifest.yml", "version: 0.1.0", "version: 0.0.1")
        detail = await reload(h)
        assert detail["state"] == "started" and detail["version"] == "0.1.0"
        assert detail["error"].endswith("the new version would break 'dependent', which needs hello>=0.1, but 'hello' 0.0.1 is installed")
        assert h.state("dependent") == "started"


async def test_a_startup_that_hangs_after_a_save_is_abandoned_and_rolled_back(lumina_host, plugins_copy: Path, hello_dir: Path) -> None:
    async with lumina_host(plugins=["hello"], plugins_dir=plugins_copy, startup_timeout=0.5) as h:
        edit(hello_dir / "__init__.py", "STARTED.append(ctx.name)", "__import__('time').sleep(60)")
        detail = await reload(h)
        assert detail["state"] == "started"
        assert detail["error"].endswith("startup failed: HookTimeout: hook startup of plugin 'hello' did not finish within 0.5 s")
        assert await greeting(h) == "hello, world"
