"""`make client`: writes the gateway's /openapi.json to clients/openapi.json and generates the Python client
in clients/python/ from it with openapi-python-client (a maintained generator; config in python-config.yaml).

tests/test_python_client.py regenerates into a temporary directory and fails when the committed client (or
document) differs: a change to the API must come with its regenerated client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent
DOCUMENT = CLIENTS / "openapi.json"
CONFIG = CLIENTS / "python-config.yaml"
TARGET = CLIENTS / "python"
CACHES = (".ruff_cache", "__pycache__")


def openapi_document() -> dict[str, Any]:
    """The gateway's /openapi.json, from the app itself (no server, no database)."""
    from switchboard_gateway.app import create_app
    from switchboard_gateway.settings import GatewaySettings

    return create_app(GatewaySettings(environment="test"), run_workers=False).openapi()


def document_text() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def generate(document: Path, target: Path) -> None:
    """Runs the generator; its ruff post-hooks format the code (the venv's ruff, as pinned in uv.lock)."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")}
    with tempfile.TemporaryDirectory(prefix="client-") as work:
        output = Path(work) / "python"
        subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [
                os.path.join(venv_bin, "openapi-python-client"),
                "generate",
                "--path",
                str(document),
                "--config",
                str(CONFIG),
                "--meta",
                "uv",
                "--output-path",
                str(output),
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(output, target, ignore=shutil.ignore_patterns(*CACHES))


def main() -> int:
    DOCUMENT.write_text(document_text())
    generate(DOCUMENT, TARGET)
    print(f"wrote {DOCUMENT.relative_to(CLIENTS.parent)} and {TARGET.relative_to(CLIENTS.parent)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
