"""The kernel: owns the plugin manager, the services and every plugin's lifecycle; nothing else.

Start-up is: discover → check manifests → resolve dependencies → import → register with pluggy →
call the start-time hooks → bind what they return (services, routes, handlers). ``_settle``
repeats resolution until every plugin that can start has started, so enabling, disabling and
failing all reuse one mechanism. Nothing a plugin does can stop the host: each failure is
recorded on that plugin's :class:`PluginRecord` and the rest carry on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jsonschema
import pluggy
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lumina_core import hookspecs
from lumina_core.api.routes import RouteRegistry
from lumina_core.context import PluginContext
from lumina_core.errors import ConfigurationError, Conflict, LuminaError, NotFound
from lumina_core.permissions import HOOK_PERMISSIONS
from lumina_core.plugins.discovery import PluginSource, discover, forget_code, forget_package
from lumina_core.plugins.hookcalls import CallListener, Outcome, call_impl, call_inline
from lumina_core.plugins.manifest import Manifest, ManifestInvalid, load_manifest
from lumina_core.plugins.records import RESTING, PluginRecord, PluginState
from lumina_core.plugins.resolver import resolve
from lumina_core.plugins.state import EnabledStore
from lumina_core.services import ServiceRegistry
from lumina_core.settings import Settings
from lumina_core.version import API_VERSION, __version__

log = logging.getLogger("lumina.kernel")

#: Hooks called once per plugin start, in this order (see :mod:`lumina_core.hookspecs`).
START_HOOKS = (
    "register_services",
    "startup",
    "register_routes",
    "register_event_handlers",
    "register_task_handlers",
    "register_periodic_jobs",
    "register_models",
    "register_tools",
)

#: Wires what a start-time hook returned into a service; registers its own undo on ``ctx``.
Binder = Callable[[PluginContext, Any], None]
#: Told about every state change: (record, action) with action load/start/fail/enable/disable/reload.
StateListener = Callable[[PluginRecord, str], None]


class StartupFailed(Exception):
    """Raised by ``lumina serve --strict`` when any plugin could not start."""


class PluginRefused(Exception):
    """The plugin's code breaks the contract (unknown hook, missing hook permission ...)."""


class Kernel:
    """The plugin host. One per process; the web app, the CLI and the tests all drive this."""

    def __init__(self, settings: Settings, *, builtins: Sequence[tuple[str, object]] = ()) -> None:
        self.settings = settings
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.services = ServiceRegistry()
        self.records: dict[str, PluginRecord] = {}
        self.routes: RouteRegistry | None = None
        self.call_listeners: list[CallListener] = []
        self.state_listeners: list[StateListener] = []
        self._binders: dict[str, Binder] = {
            "register_services": self._bind_services,
            "register_routes": self._bind_routes,
        }
        self._builtins = builtins
        self._added_sources: list[PluginSource] = []
        self._enabled = EnabledStore(settings.data_dir)
        self._background: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()
        self.started = False

    # --- lifecycle of the whole host -------------------------------------------------------

    async def start(self) -> None:
        """Start the built-ins, then every plugin that can start; never raises for a plugin,
        unless ``strict`` is set. Starting a started kernel does nothing."""
        async with self._lock:
            if self.started:
                return
            self.started = True
            for name, plugin in self._builtins:
                await self._start_builtin(name, plugin)
            self.discover()
            await self._settle()
        self._report_start_mode()
        if self.settings.strict:
            self._fail_fast()

    async def stop(self) -> None:
        """Stop every started plugin, dependents first, then wait for background hook calls."""
        async with self._lock:
            started = sorted(self._started(), key=lambda r: r.since, reverse=True)
            for record in started:
                await self._stop(record)
            self.started = False
        log.info("stopped %d plugins", sum(not r.builtin for r in started))
        if self._background:
            await asyncio.wait(self._background, timeout=self.settings.hook_timeout)

    def discover(self) -> None:
        """Find plugins and check their manifests; no plugin code runs here."""
        disabled = self._enabled.disabled()
        selected = self.settings.selected_plugins
        known_origins = {r.source.origin for r in self.records.values() if r.source}
        for source in [*discover(self.settings.plugins_dir), *self._added_sources]:
            if source.origin in known_origins:
                continue
            record = self._checked(source)
            key = record.name
            if key in self.records:
                first = self.records[key]
                key = f"{record.name}#{sum(r.name == record.name for r in self.records.values()) + 1}"
                record.set_state(PluginState.INVALID, f"name '{record.name}' is already used by {first.source.describe() if first.source else 'lumina-core'}")
            elif record.state is PluginState.DISCOVERED and record.name in disabled:
                record.set_state(PluginState.DISABLED, "disabled by the operator")
            elif record.state is PluginState.DISCOVERED and selected is not None and record.name not in selected:
                record.set_state(PluginState.DISABLED, "not selected by LUMINA_LOAD_PLUGINS")
            self.records[key] = record

    def add_source(self, source: PluginSource) -> None:
        """Offer a plugin found another way than discovery (the testing kit's plugin objects);
        it is checked and started like any other at the next ``discover``/``start``."""
        self._added_sources.append(source)

    def survey(self) -> list[PluginRecord]:
        """Discover and resolve without importing any plugin: what would start, and what not."""
        self.discover()
        candidates = {n: r.manifest for n, r in self.records.items() if r.state is PluginState.DISCOVERED and r.manifest}
        unavailable = {r.name: str(r.state) for r in self.records.values() if r.state in RESTING}
        resolution = resolve(candidates, core_version=__version__, api_version=API_VERSION, unavailable=unavailable)
        for name, reason in resolution.refused.items():
            self.records[name].set_state(PluginState.INCOMPATIBLE, reason)
        return self.public_records()

    # --- operator actions ------------------------------------------------------------------

    def get(self, name: str) -> PluginRecord:
        record = self.records.get(name)
        if record is None:
            known = ", ".join(sorted(n for n, r in self.records.items() if not r.builtin)) or "none"
            raise NotFound(f"no plugin named '{name}' (installed: {known})")
        return record

    async def enable(self, name: str) -> PluginRecord:
        """Switch a plugin on (persisted) and start it if it can start."""
        async with self._lock:
            record = self._operable(name)
            self._enabled.set_enabled(name, True)
            if record.state in RESTING and record.source is not None:
                self.records[name] = record = self._checked(record.source)
            self._notify(record, "enable")
            await self._settle()
            return record

    async def disable(self, name: str) -> PluginRecord:
        """Switch a plugin off (persisted): its routes answer 404 at once."""
        async with self._lock:
            record = self._operable(name)
            self._enabled.set_enabled(name, False)
            if record.state is PluginState.STARTED:
                await self._stop(record)
            if self.routes is not None:
                self.routes.unmount(name)
            record.set_state(PluginState.DISABLED, "disabled by the operator")
            self._notify(record, "disable")
            await self._settle()
            return record

    async def reload(self, name: str) -> PluginRecord:
        """Re-import a plugin in place; if the new code fails, the previous version keeps serving."""
        async with self._lock:
            record = self._operable(name)
            if record.state is PluginState.DISABLED:
                raise Conflict(f"plugin '{name}' is disabled: enable it first (POST /plugins/{name}/enable)")
            if record.state is PluginState.STARTED:
                await self._reload_started(record)
            else:
                forget_code(record.source)  # a plugin that failed in startup left its modules
                self.records[name] = record = self._checked(record.source)
                await self._settle()
            self._notify(record, "reload")
            return record

    async def _reload_started(self, record: PluginRecord) -> None:
        assert record.source is not None
        previous_manifest, previous_plugin = record.manifest, record.plugin
        await self._stop(record)
        if self.routes is not None and previous_manifest is not None:
            self.routes.mark_unavailable(
                record.name, previous_manifest.prefixes, lambda: f"plugin '{record.name}' is reloading: retry in a moment"
            )
        previous_modules = forget_code(record.source)
        error = await self._try_fresh_start(record)
        if error is None:
            return
        forget_package(record.source.package)
        sys.modules.update(previous_modules)
        record.manifest = previous_manifest
        self._register(record, previous_plugin)
        if await self._start(record):
            record.error = f"reload failed, the previous version keeps serving: {error}"
        else:
            record.error = f"reload failed ({error}), and the previous version failed to restart: {record.error}"

    # --- shared hooks ----------------------------------------------------------------------

    async def call_each(self, hook: str, **arguments: Any) -> list[Outcome]:
        """Call ``hook`` on every started plugin concurrently; failures are recorded, not raised."""
        calls = [self._call_isolated(impl, hook, arguments) for impl in self._impls(hook)]
        return [outcome for outcome in await asyncio.gather(*calls) if outcome.error is None]

    def call_each_later(self, hook: str, **arguments: Any) -> None:
        """Call ``hook`` in the background: the caller (a reply, say) never waits for it."""
        task = asyncio.get_running_loop().create_task(self.call_each(hook, **arguments))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def add_binder(self, hook: str, binder: Binder) -> None:
        """Let a core service consume what plugins return from a start-time ``register_*`` hook."""
        if hook not in START_HOOKS:
            raise ValueError(f"{hook} is not a start-time hook")
        self._binders[hook] = binder

    def record_route_error(self, plugin: str, request: Request, error: Exception) -> Response:
        """Answer a plugin route that raised: log it, count it, and send a clear 503."""
        where = f"{request.method} {request.url.path}"
        log.error("plugin '%s' raised while handling %s", plugin, where, exc_info=error)
        record = self.records.get(plugin)
        if record is not None:
            record.hook_errors += 1
            record.error = f"route {where} raised {_describe(error)}"
        message = (
            f"plugin '{plugin}' failed while handling {where} ({_describe(error)}); "
            f"the host logged the details and keeps serving"
        )
        return JSONResponse({"error": {"type": "unavailable", "message": message}}, status_code=503)

    def public_records(self, *, include_builtins: bool = False) -> list[PluginRecord]:
        return [r for r in self.records.values() if include_builtins or not r.builtin]

    # --- one plugin's lifecycle --------------------------------------------------------------

    def _checked(self, source: PluginSource) -> PluginRecord:
        """A record for ``source`` with its manifest checked (state discovered or invalid)."""
        name = source.declared_name or source.package
        record = PluginRecord(name=name, source=source)
        if source.manifest_path is None or not source.manifest_path.is_file():
            record.set_state(PluginState.INVALID, f"no manifest.yml found for {source.describe()}")
            return record
        try:
            manifest = load_manifest(source.manifest_path)
        except ManifestInvalid as exc:
            record.problems = [str(p) for p in exc.problems]
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            record.set_state(PluginState.INVALID, f"invalid manifest: {exc.problems[0]}{more}")
            return record
        record.manifest = manifest
        if source.declared_name is None:
            record.name = manifest.name
        elif manifest.name != source.declared_name:
            record.set_state(
                PluginState.INVALID,
                f"the entry point is named '{source.declared_name}' but manifest.yml says name: {manifest.name}",
            )
        return record

    async def _settle(self) -> None:
        """Resolve and start until stable: every plugin that can start is started."""
        while True:
            candidates = {
                name: record.manifest
                for name, record in self.records.items()
                if not record.builtin and record.state not in RESTING and record.manifest
            }
            unavailable = {
                record.name: str(record.state)
                for record in self.records.values()
                if record.state in RESTING and not record.builtin
            }
            resolution = resolve(
                candidates, core_version=__version__, api_version=API_VERSION, unavailable=unavailable
            )
            for name, reason in resolution.refused.items():
                await self._refuse(self.records[name], reason)
            pending = [self.records[n] for n in resolution.order if self.records[n].state is not PluginState.STARTED]
            if await self._start_in_order(pending):
                return

    async def _start_in_order(self, pending: list[PluginRecord]) -> bool:
        """Start ``pending``; stop at the first failure, since others may depend on it."""
        for record in pending:
            if not await self._load_and_start(record):
                return False
        return True

    async def _refuse(self, record: PluginRecord, reason: str) -> None:
        if record.state is PluginState.STARTED:
            await self._stop(record)
        if record.state is not PluginState.INCOMPATIBLE or record.error != reason:
            record.set_state(PluginState.INCOMPATIBLE, reason)
            self._notify(record, "fail")

    async def _load_and_start(self, record: PluginRecord) -> bool:
        assert record.source is not None
        try:
            plugin = record.source.load()
        except Exception as exc:  # noqa: BLE001 - any import error belongs to the plugin
            forget_package(record.source.package)
            log.error("plugin '%s' failed to import", record.name, exc_info=exc)
            return self._failed(record, f"import failed: {_describe(exc)}")
        try:
            self._register(record, plugin)
        except PluginRefused as exc:
            record.set_state(PluginState.INVALID, str(exc))
            self._notify(record, "fail")
            return False
        self._notify(record, "load")
        return await self._start(record)

    def _register(self, record: PluginRecord, plugin: object) -> None:
        """Register with pluggy, refusing unknown hooks and hooks the manifest does not permit."""
        try:
            self.pm.register(plugin, name=record.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginRefused(f"does not fit the hook contract: {exc}") from None
        problems = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            needed = HOOK_PERMISSIONS.get(caller.name)
            if caller.spec is None:
                problems.append(f"implements '{caller.name}', which is not a Lumina hook")
            elif needed and not record.builtin and needed not in record.manifest.permissions:
                problems.append(f"implements {caller.name} but its manifest lacks permission '{needed}'")
        if problems:
            self.pm.unregister(plugin)
            raise PluginRefused("; ".join(problems))
        record.plugin = plugin

    async def _start(self, record: PluginRecord) -> bool:
        """Call the start-time hooks and bind their results; on any error, undo and mark failed."""
        try:
            context = PluginContext(self, record.manifest, self.config_for(record), trusted=record.builtin)
        except LuminaError as exc:
            self._unregister(record)
            return self._failed(record, exc.message)
        record.context = context
        hook = "startup"
        try:
            for hook in START_HOOKS:
                result = await self._call_start_hook(record, hook, context)
                if result is not None:
                    self._bind(hook, context, result)
        except Exception as exc:  # noqa: BLE001 - recorded on the plugin, the host goes on
            log.error("plugin '%s' failed in %s", record.name, hook, exc_info=exc)
            await self._teardown(record)
            self._unregister(record)
            return self._failed(record, f"{hook} failed: {_describe(exc)}")
        record.set_state(PluginState.STARTED)
        self._notify(record, "start")
        return True

    async def _call_start_hook(self, record: PluginRecord, hook: str, context: PluginContext) -> Any:
        impl = self._impl_of(record.name, hook)
        if impl is None:
            return None
        arguments = {"ctx": context}
        if hook.startswith("register_") and not inspect.iscoroutinefunction(impl.function):
            return call_inline(impl, arguments)
        return await call_impl(
            impl, hook, arguments, timeout=self.settings.startup_timeout, listeners=tuple(self.call_listeners)
        )

    async def _stop(self, record: PluginRecord) -> None:
        impl = self._impl_of(record.name, "shutdown")
        if impl is not None and record.context is not None:
            outcome = await self._call_isolated(impl, "shutdown", {"ctx": record.context})
            if outcome.error is not None:
                log.warning("plugin '%s' raised in shutdown: %s", record.name, _describe(outcome.error))
        await self._teardown(record)
        self._unregister(record)
        record.set_state(PluginState.DISCOVERED)

    async def _teardown(self, record: PluginRecord) -> None:
        if record.context is None:
            return
        for undo in record.context.take_teardowns():
            try:
                result = undo()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - one failed undo must not block the others
                log.warning("cleaning up plugin '%s' failed: %s", record.name, _describe(exc))
        record.context = None

    def _unregister(self, record: PluginRecord) -> None:
        if record.plugin is not None and self.pm.is_registered(record.plugin):
            self.pm.unregister(record.plugin)

    async def _try_fresh_start(self, record: PluginRecord) -> str | None:
        """Re-read, re-import and start the plugin; return the error, or None on success."""
        assert record.source is not None
        fresh = self._checked(record.source)
        record.problems = fresh.problems
        if fresh.state is PluginState.INVALID:
            return fresh.error
        if fresh.name != record.name:
            return f"manifest.yml now names the plugin '{fresh.name}': a renamed plugin is a new plugin, restart the host"
        refused = resolve(
            {**{r.name: r.manifest for r in self._started()}, fresh.name: fresh.manifest},
            core_version=__version__,
            api_version=API_VERSION,
        ).refused
        if fresh.name in refused:
            return refused[fresh.name]
        if refused:  # the plugins that depend on this one would no longer fit it
            return "the new version would break " + "; ".join(f"'{n}', which {why}" for n, why in sorted(refused.items()))
        record.manifest = fresh.manifest
        if not await self._load_and_start(record):
            return record.error
        return None

    def _failed(self, record: PluginRecord, reason: str) -> bool:
        record.set_state(PluginState.FAILED, reason)
        if self.routes is not None and record.manifest is not None and not record.builtin:
            self.routes.mark_unavailable(
                record.name,
                record.manifest.prefixes,
                lambda: f"plugin '{record.name}' is not running: {record.error}. "
                f"Fix it, then POST /plugins/{record.name}/reload",
            )
        self._notify(record, "fail")
        return False

    # --- built-ins ---------------------------------------------------------------------------

    async def _start_builtin(self, name: str, plugin: object) -> None:
        manifest = Manifest(
            name=name,
            version=Version(__version__),
            description=(inspect.getdoc(plugin) or name).splitlines()[0],
            api_version=SpecifierSet(),
            prefixes=("",),
        )
        record = PluginRecord(name=name, source=None, manifest=manifest, builtin=True)
        self.records[name] = record
        self._register(record, plugin)
        if not await self._start(record):
            raise StartupFailed(f"built-in module '{name}' failed: {record.error}")

    # --- helpers -----------------------------------------------------------------------------

    def _bind(self, hook: str, context: PluginContext, result: Any) -> None:
        binder = self._binders.get(hook)
        if binder is None:
            log.warning("plugin '%s' returned %s, but no service consumes it yet", context.name, hook)
            return
        binder(context, result)

    def _bind_services(self, context: PluginContext, services: Mapping[str, Any]) -> None:
        for name, service in services.items():
            context.on_stop(self.services.provide(name, service, owner=context.name))

    def _bind_routes(self, context: PluginContext, router: Any) -> None:
        assert self.routes is not None, "routes are mounted only inside a web app"
        manifest = None if self.records[context.name].builtin else context.manifest
        self.routes.mount(context.name, router.routes, manifest=manifest)
        context.on_stop(lambda: self.routes.unmount(context.name))

    def _impls(self, hook: str) -> Iterable[Any]:
        started = {r.name for r in self._started()}
        caller = getattr(self.pm.hook, hook)
        return [impl for impl in reversed(caller.get_hookimpls()) if impl.plugin_name in started]

    def _impl_of(self, name: str, hook: str) -> Any:
        caller = getattr(self.pm.hook, hook)
        return next((i for i in caller.get_hookimpls() if i.plugin_name == name), None)

    async def _call_isolated(self, impl: Any, hook: str, arguments: Mapping[str, Any]) -> Outcome:
        record = self.records[impl.plugin_name]
        try:
            value = await call_impl(
                impl,
                hook,
                {**arguments, "ctx": record.context},
                timeout=self.settings.hook_timeout,
                listeners=tuple(self.call_listeners),
            )
        except Exception as exc:  # noqa: BLE001 - recorded against the plugin
            record.hook_errors += 1
            record.error = f"{hook} raised {_describe(exc)}"
            log.warning("plugin '%s' failed in %s: %s", record.name, hook, _describe(exc))
            return Outcome(record.name, error=exc)
        return Outcome(record.name, value=value)

    def _started(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.state is PluginState.STARTED]

    def _operable(self, name: str) -> PluginRecord:
        record = self.get(name)
        if record.builtin:
            raise Conflict(f"'{name}' is part of lumina-core and cannot be switched off or reloaded")
        return record

    def config_for(self, record: PluginRecord) -> dict[str, Any]:
        """The plugin's settings with schema defaults filled in, checked against its schema."""
        schema = dict(record.manifest.config_schema) if record.manifest else {}
        given = self.settings.plugin_config
        # ``LUMINA_PLUGIN_CONFIG__ROUTER_TOOLS__X`` arrives under "router_tools": a name's hyphens
        # cannot be written in an environment variable's name
        config = {**given.get(record.name, {}), **given.get(env_name(record.name), {})}
        for key, spec in schema.get("properties", {}).items():
            if isinstance(config.get(key), str) and spec.get("type", "string") != "string":
                config[key] = _typed(config[key])
            if "default" in spec:
                config.setdefault(key, spec["default"])
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config)) if schema else []
        if errors:
            lines = [
                f"LUMINA_PLUGIN_CONFIG__{env_name(record.name).upper()}__{'__'.join(map(str, e.absolute_path)).upper()}: {e.message}"
                for e in errors
            ]
            raise ConfigurationError("invalid plugin settings: " + "; ".join(lines))
        return config

    def _notify(self, record: PluginRecord, action: str) -> None:
        for listener in self.state_listeners:
            try:
                listener(record, action)
            except Exception as exc:  # noqa: BLE001 - a listener must not break the lifecycle
                log.warning("state listener failed: %s", _describe(exc))

    def _report_start_mode(self) -> None:
        records = self.public_records()
        started = sum(r.state is PluginState.STARTED for r in records)
        log.info("lumina-core %s: %d of %d plugins started", __version__, started, len(records))
        for record in records:
            if record.state in (PluginState.INVALID, PluginState.INCOMPATIBLE, PluginState.FAILED):
                log.warning("plugin '%s' is %s: %s", record.name, record.state, record.error)

    def _fail_fast(self) -> None:
        broken = [
            f"{r.name}: {r.state}: {r.error}"
            for r in self.public_records()
            if r.state in (PluginState.INVALID, PluginState.INCOMPATIBLE, PluginState.FAILED)
        ]
        if broken:
            raise StartupFailed("strict mode: some plugins cannot start:\n  " + "\n  ".join(broken))


def env_name(plugin: str) -> str:
    """The plugin's name as it is spelled in environment variables (``router-tools`` → ``router_tools``)."""
    return plugin.replace("-", "_")


def _typed(text: str) -> Any:
    """A setting given as text (``LUMINA_PLUGIN_CONFIG__CRAWLER__RATE_LIMIT=50``) read as the YAML
    value it spells (50, true, [a, b]) for a setting whose schema wants no text; left as text when
    it spells none."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
