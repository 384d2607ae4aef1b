"""The embedded provider: llama.cpp in-process (``llama-cpp-python``), SmolLM2-135M by default.

The model is loaded once per process and shared. Everything it computes runs on the process's
model thread (:mod:`lumina_core.services.compute`): llama.cpp is not thread-safe, so computations
take turns there, and its CPU threads are an OpenMP team kept by the thread that asks, which a
second asking thread (or the embedder beside it) would fight for the cores. Tokens are generated there and
handed to the event loop one by one, which gives exact token counts, stop strings and
cancellation (a consumer that stops reading ends the generation at the next token). A LoRA
adapter (a GGUF LoRA file of the model) is switched at run time with ``set_adapter``, on the
same thread: between two generations.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lumina_core.contract import Message, Usage
from lumina_core.errors import ValidationFailed
from lumina_core.services.compute import on_model_thread, submit_to_model_thread
from lumina_core.services.llm.base import (
    ChatChunk,
    ContextTooLong,
    FinishReason,
    GenerationOptions,
    Likelihood,
    ModelDetails,
    ModelInfo,
    ProviderUnavailable,
)
from lumina_core.services.llm.batch_probe import load_llama, safe_prompt_batch
from lumina_core.services.llm.selection import KeptContext, Selection, Step, fill_batch, select
from lumina_core.services.model_files import SMOLLM2_135M

#: A 135M model drifts off topic at llama.cpp's usual 0.8; a cooler default keeps it factual.
DEFAULT_TEMPERATURE = 0.3
#: Used when a conversation brings no system message. SmolLM2's template would otherwise insert
#: its own ("... named SmolLM, trained by Hugging Face"), after which greedy decoding on some
#: CPU builds of llama.cpp drifts into French lists instead of answering the question.
DEFAULT_SYSTEM_MESSAGE = "You are a helpful assistant."


@dataclass(frozen=True)
class LlamaOptions:
    """How llama.cpp runs the model.

    ``prompt_batch`` is llama.cpp's ``n_ubatch``. Unset, it is llama.cpp's batched reading when
    a probe process finds that this build can do it (one llama-cpp-python 0.3.36 build crashed
    on any batch of more than one token), else one token at a time: see ``batch_probe``.
    """

    context_window: int = 2048
    threads: int = max(1, min(4, os.cpu_count() or 1))
    prompt_batch: int | None = None


_loaded: dict[tuple[Path, LlamaOptions], Any] = {}
_kept: dict[tuple[Path, LlamaOptions], KeptContext] = {}
_loading = threading.Lock()


def shared_llama(path: Path, options: LlamaOptions) -> Any:
    """The process-wide ``Llama`` for ``path`` (loaded on first use, then shared)."""
    with _loading:
        key = (path, options)
        if key not in _loaded:
            batch = options.prompt_batch or safe_prompt_batch(path, options.threads, options.context_window)
            _loaded[key] = load_llama(path, context=options.context_window, threads=options.threads,
                                      prompt_batch=batch)
        return _loaded[key]


def shared_kept_context(path: Path, options: LlamaOptions) -> KeptContext:
    """The process-wide context in which the model makes choices (see ``selection``): its own,
    so that what it keeps (a system message listing tools) outlives the chat answers between."""
    llama = shared_llama(path, options)
    with _loading:
        key = (path, options)
        if key not in _kept:
            _kept[key] = KeptContext(llama, context=options.context_window, threads=options.threads)
        return _kept[key]


@atexit.register
def _close_models() -> None:
    """Free the models before the interpreter tears down the modules their destructor needs."""
    for context in _kept.values():
        context.close()
    _kept.clear()
    for llama in _loaded.values():
        llama.close()
    _loaded.clear()


@cache
def json_grammar(schema: str) -> Any:
    """llama.cpp's grammar for compact JSON that ``schema`` accepts, built once per schema: the
    optional spaces between tokens are left out, so no generated token is spent on layout."""
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    rules = json_schema_to_gbnf(schema).replace('space ::= " "?', 'space ::= ""')
    return LlamaGrammar.from_string(rules, verbose=False)


@dataclass(frozen=True)
class _Prompt:
    tokens: list[int]
    stops: tuple[str, ...]


class _StopScanner:
    """Releases generated text, holding back any tail that could start a stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        self._pending += text
        for stop in self._stops:
            at = self._pending.find(stop)
            if at >= 0:
                self.stopped = True
                released, self._pending = self._pending[:at], ""
                return released
        hold = max((_overlap(self._pending, s) for s in self._stops), default=0)
        cut = len(self._pending) - hold
        released, self._pending = self._pending[:cut], self._pending[cut:]
        return released

    def flush(self) -> str:
        released, self._pending = self._pending, ""
        return released


def _overlap(text: str, stop: str) -> int:
    """Length of the longest suffix of ``text`` that is a prefix of ``stop``."""
    for size in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:size]):
            return size
    return 0


class EmbeddedProvider:
    """SmolLM2 (or any GGUF chat model given by path) running inside the Lumina process."""

    name = "embedded"

    def __init__(self, model_path: Path | None = None, options: LlamaOptions = LlamaOptions()) -> None:
        self._path = model_path
        self._options = options
        self._context_window = options.context_window
        self._details: ModelDetails | None = None
        self._adapters: dict[tuple[Path, int], Any] = {}
        self._adapter: tuple[Path, str] | None = None

    @cached_property
    def model_id(self) -> str:
        return self.path.stem.lower()

    @cached_property
    def path(self) -> Path:
        return self._path or SMOLLM2_135M.locate()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory now (Ollama's ``/api/ps`` lists it then)."""
        return bool(_loaded) and (self.path, self._options) in _loaded

    @property
    def llama(self) -> Any:
        return shared_llama(self.path, self._options)

    @cached_property
    def _formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.llama
        vocab = llama.tokenizer_
        return Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=vocab.detokenize([llama.token_eos()], special=True).decode(),
            bos_token=vocab.detokenize([llama.token_bos()], special=True).decode(),
        )

    def default_model(self) -> str:
        return self.model_id

    async def models(self) -> list[ModelInfo]:
        """Also how the registry checks a provider answers, before every chat that names no
        model: the file's details are read once, off the event loop, then remembered."""
        if self._details is None:
            self._details = await asyncio.to_thread(self._read_details)
        stat = self.path.stat()
        return [ModelInfo(self.model_id, self.name, self._context_window, int(stat.st_mtime), stat.st_size,
                          self._details, adapter=self.adapter)]

    @property
    def adapter(self) -> str | None:
        """The name of the LoRA adapter the model answers with now, if any."""
        return self._adapter[1] if self._adapter else None

    async def set_adapter(self, path: Path | None, *, name: str | None = None) -> None:
        """Answer with the GGUF LoRA adapter at ``path`` from the next generation on (``None``:
        without one), without reloading the model.

        The file is read first, beside the model; the switch itself then waits on the model
        thread for the generation in flight, which finishes with the adapter it started with, so
        no request fails or mixes two adapters. A file llama.cpp cannot load is refused and the
        current adapter stays. Loaded files are kept (llama.cpp frees them with the model), so
        switching back is immediate."""
        if path is None and (self._adapter is None or not self.loaded):
            self._adapter = None
            return
        adapter = None if path is None else await asyncio.to_thread(self._load_adapter, self.llama, path)
        await on_model_thread(self._switch_adapter, adapter)
        self._adapter = None if path is None else (path, name or path.name)

    def _switch_adapter(self, adapter: Any) -> None:
        import llama_cpp

        llama = self.llama
        kept = self._kept_context()
        for ctx in (llama.ctx, kept.ctx):
            if adapter is None:
                llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
            else:
                adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
                scales = (llama_cpp.ctypes.c_float * 1)(1.0)
                llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, scales)
        # the cached prompts were read with the previous weights
        llama.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llama.ctx), True)
        kept.forget()

    def _load_adapter(self, llama: Any, path: Path) -> Any:
        import llama_cpp

        try:
            key = (path.resolve(), path.stat().st_mtime_ns)
        except OSError as exc:
            raise ValidationFailed(f"no LoRA adapter file at {path}: {exc.strerror}", field="adapter") from None
        if key not in self._adapters:
            adapter = llama_cpp.llama_adapter_lora_init(llama.model, str(path).encode())
            if not adapter:
                raise ValidationFailed(f"llama.cpp could not load {path} as a LoRA adapter of {self.model_id}: it must "
                                       "be a GGUF LoRA file made for this model (see convert_lora_to_gguf)",
                                       field="adapter")
            self._adapters[key] = adapter
        return self._adapters[key]

    def _read_details(self) -> ModelDetails:
        """From the GGUF file's metadata: the loaded model's, else its vocabulary's alone (a tenth
        of a second, without the weights)."""
        if self.loaded:
            return gguf_details(self.llama.metadata)
        import llama_cpp

        # ``Llama`` would also make a context (and warn about it on stderr) just to read this;
        # its model class is internal, but llama-cpp-python is pinned to one version
        from llama_cpp._internals import LlamaModel

        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        vocabulary = LlamaModel(path_model=str(self.path), params=params, verbose=False)
        try:
            return gguf_details(vocabulary.metadata())
        finally:
            vocabulary.close()

    async def has_model(self, model: str) -> bool:
        return model == self.model_id

    async def context_window(self, model: str) -> int:
        return self._context_window

    async def count_tokens(self, text: str, model: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    async def loglikelihood(self, context: str, continuation: str, model: str) -> Likelihood:
        """How likely the model finds ``continuation`` right after ``context``, read in one pass."""
        return await on_model_thread(self._loglikelihood, context, continuation)

    def _loglikelihood(self, context: str, continuation: str) -> Likelihood:
        llama = self.llama
        # tokenized whole, as the model reads it: a word across the seam is split as in the text
        tokens = llama.tokenize((context + continuation).encode(), add_bos=True, special=True)
        head = llama.tokenize(context.encode(), add_bos=True, special=True)
        first = max(1, next((i for i, (a, b) in enumerate(zip(head, tokens)) if a != b), len(head)))
        if len(tokens) > self._context_window:
            raise ContextTooLong(
                f"this model's maximum context length is {self._context_window} tokens; the context and "
                f"continuation take {len(tokens)}: shorten them", field="context")
        if first >= len(tokens):
            return Likelihood(0.0, 0)
        # the cache is overwritten below, so the next generation must not reuse its prompt
        llama.reset()
        rows = _next_token_logits(llama, tokens, range(first - 1, len(tokens) - 1))
        predicted = np.asarray(tokens[first:])
        shifted = rows - rows.max(axis=1, keepdims=True)
        logprobs = shifted[np.arange(len(predicted)), predicted] - np.log(np.exp(shifted).sum(axis=1))
        return Likelihood(float(logprobs.sum()), len(predicted))

    def _kept_context(self) -> KeptContext:
        return shared_kept_context(self.path, self._options)

    async def select(self, messages: Sequence[Message], program: Sequence[Step], model: str) -> Selection:
        """The reply that ``program`` allows (fixed text and choices among options) that the model
        finds likeliest, choice by choice; see ``selection``. A prompt that starts like the last
        one's is read only from where it differs."""
        return await on_model_thread(self._select, messages, program)

    def _select(self, messages: Sequence[Message], program: Sequence[Step]) -> Selection:
        prompt = self._prompt(messages, GenerationOptions())
        context = self._kept_context()
        llama = self.llama

        def tokenize(text: str) -> list[int]:
            return llama.tokenize(text.encode(), add_bos=False, special=False)

        end = next(iter(sorted(self._end_tokens)), llama.token_eos())
        return select(context, prompt.tokens, program, tokenize, end)

    async def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        await asyncio.to_thread(lambda: self._formatter)

    async def stream(
        self, messages: Sequence[Message], model: str, options: GenerationOptions
    ) -> AsyncIterator[ChatChunk]:
        prompt = await asyncio.to_thread(self._prompt, messages, options)
        budget = self._reply_budget(prompt, options)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def put(item: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        submit_to_model_thread(self._generate_into, prompt, budget, options, put, cancelled)
        deadline = None if options.timeout is None else time.monotonic() + options.timeout
        try:
            while True:
                item = await self._next(queue, deadline, options.timeout)
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            cancelled.set()

    async def _next(self, queue: asyncio.Queue[Any], deadline: float | None, timeout: float | None) -> Any:
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return await asyncio.wait_for(queue.get(), left)
        except TimeoutError:
            raise ProviderUnavailable(
                f"the embedded model did not finish within {timeout:g} s: lower max_tokens or raise LUMINA_LLM_TIMEOUT"
            ) from None

    def _prompt(self, messages: Sequence[Message], options: GenerationOptions) -> _Prompt:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if not chat or chat[0]["role"] != "system":
            chat.insert(0, {"role": "system", "content": DEFAULT_SYSTEM_MESSAGE})
        formatted = self._formatter(messages=chat)
        tokens = self.llama.tokenize(
            formatted.prompt.encode(), add_bos=not formatted.added_special, special=True
        )
        template_stops = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop or ""]
        return _Prompt(tokens, tuple(s for s in (*template_stops, *options.stop) if s))

    def _reply_budget(self, prompt: _Prompt, options: GenerationOptions) -> int:
        room = self._context_window - len(prompt.tokens)
        wanted = options.max_tokens or room
        if room <= 0 or (options.max_tokens and options.max_tokens > room):
            raise ContextTooLong(
                f"this model's maximum context length is {self._context_window} tokens; the "
                f"messages take {len(prompt.tokens)} and {wanted} were asked for the reply: "
                f"shorten the messages or lower max_tokens",
                field="messages",
            )
        return min(wanted, room)

    def _generate_into(
        self, prompt: _Prompt, budget: int, options: GenerationOptions, put: Any, cancelled: threading.Event
    ) -> None:
        if cancelled.is_set():  # its reader gave up while it waited for the model thread
            return
        try:
            for chunk in self._generate(prompt, budget, options, cancelled):
                put(chunk)
        except Exception as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            put(exc)

    def _generate(
        self, prompt: _Prompt, budget: int, options: GenerationOptions, cancelled: threading.Event
    ) -> Iterator[ChatChunk]:
        llama = self.llama
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        scanner = _StopScanner(prompt.stops)
        temperature = DEFAULT_TEMPERATURE if options.temperature is None else options.temperature
        finish: FinishReason = "length"
        generated = 0
        grammar = None if options.json_schema is None else json_grammar(json.dumps(options.json_schema))
        tokens = llama.generate(prompt.tokens, temp=temperature, top_p=0.95, top_k=40, reset=True, grammar=grammar)
        for token in tokens:
            if cancelled.is_set():
                return
            if llama.token_eos() == token or token in self._end_tokens:
                finish = "stop"
                break
            generated += 1
            text = scanner.feed(decoder.decode(llama.detokenize([token])))
            if text:
                yield ChatChunk(text, self.model_id)
            if scanner.stopped:
                finish = "stop"
                break
            if generated >= budget:
                break
        tail = "" if scanner.stopped else scanner.feed(decoder.decode(b"", final=True)) + scanner.flush()
        usage = Usage(prompt_tokens=len(prompt.tokens), completion_tokens=generated)
        yield ChatChunk(tail, self.model_id, finish_reason=finish, usage=usage)

    @cached_property
    def _end_tokens(self) -> frozenset[int]:
        """Tokens that end a turn besides EOS (``<|im_end|>`` and the like)."""
        llama = self.llama
        ends = set()
        for text in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
            tokens = llama.tokenize(text.encode(), add_bos=False, special=True)
            if len(tokens) == 1:
                ends.add(tokens[0])
        return frozenset(ends)

    async def aclose(self) -> None:
        """The shared model stays loaded for the process; an adapter this provider switched on is
        switched off, so that it does not outlive the provider (a host stopped in a process that
        goes on, as in tests)."""
        if self._adapter is not None:
            await self.set_adapter(None)


def _next_token_logits(llama: Any, tokens: Sequence[int], positions: range) -> np.ndarray:
    """The model's logits after each of ``positions`` of ``tokens``, decoded from an empty cache
    in batches of llama.cpp's size, the logits asked for only where they are read."""
    import llama_cpp

    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llama.ctx), True)
    size = llama.n_batch
    batch = llama_cpp.llama_batch_init(size, 0, 1)
    rows: list[np.ndarray] = []
    try:
        for start in range(0, len(tokens), size):
            end = min(len(tokens), start + size)
            fill_batch(batch, tokens, start, end, wanted=positions)
            if llama_cpp.llama_decode(llama.ctx, batch) != 0:
                raise ProviderUnavailable("the embedded model could not read the text to score it")
            rows.extend(_logits(llama, i - start) for i in range(start, end) if i in positions)
    finally:
        llama_cpp.llama_batch_free(batch)
    return np.stack(rows).astype(np.float64)


def _logits(llama: Any, index: int) -> np.ndarray:
    import llama_cpp

    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, index), shape=(llama.n_vocab(),)).copy()


def gguf_details(metadata: dict[str, str]) -> ModelDetails:
    """Ollama's ``details`` from GGUF metadata; the quantisation is named by llama.cpp's own
    ``LLAMA_FTYPE_MOSTLY_*`` constants (``general.file_type`` 3 is ``Q4_1``)."""
    import llama_cpp

    file_types = {getattr(llama_cpp, name): name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_")
                  for name in dir(llama_cpp) if name.startswith("LLAMA_FTYPE_")}
    file_type = metadata.get("general.file_type", "")
    return ModelDetails(
        format="gguf",
        family=metadata.get("general.architecture", ""),
        parameter_size=metadata.get("general.size_label", ""),
        quantization_level=file_types.get(int(file_type), "") if file_type.isdigit() else "",
    )
