"""Session set-up for the codec peer tests: the vigil binary, the third-party tools, one corpus."""
from __future__ import annotations

import pytest

from builders import Corpus, missing_tools
from vigil_cli import VIGIL


@pytest.fixture(scope="session", autouse=True)
def prerequisites() -> None:
    """No silent skips: a missing binary or tool fails every test with the reason."""
    if not VIGIL.is_file():
        pytest.fail(f"vigil binary not found at {VIGIL} (set VIGIL_BIN or build the package)")
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing tools {missing}: apt-get install dcmtk libtiff-tools")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("corpus"))
