"""The build backend of ``pip install <repository>``: maturin, linking the libtorch of the torch
package installed in the environment that stog is being installed into.

pip builds in an isolated environment in which that torch does not import, so torch-sys cannot
find it by itself (``LIBTORCH_USE_PYTORCH``). This backend asks the target environment's Python
(the interpreter pip runs, outside the isolation) where torch is, checks its version, sets
``LIBTORCH`` and hands the build to maturin. ``LIBTORCH`` set by the user wins.

Cargo's output goes to the repository's ``target/`` when the libtorch is the one that
``scripts/setup.sh`` gave the Rust build (``.cargo/config.toml``), so that the build reuses
torch-sys and the dependencies; another libtorch builds in ``target/pip/`` instead, leaving the
Rust build's compiled torch-sys alone.
"""

import json
import os
import re
import subprocess
import sys

import maturin
from maturin import (  # noqa: F401  (the hooks this backend does not change)
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)

TORCH_VERSION = "2.11.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = (
    "import json, os, torch; "
    "print(json.dumps([os.path.dirname(torch.__file__), torch.__version__]))"
)


def _python_candidates():
    """The interpreters that may own the target environment: pip's own (sys.executable), then an
    activated virtual environment or conda environment (builders that isolate in a venv)."""
    found = [sys.executable]
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = os.environ.get(var)
        if prefix:
            found.append(os.path.join(prefix, "bin", "python"))
    return [p for i, p in enumerate(found) if os.path.exists(p) and p not in found[:i]]


def _find_torch():
    """(folder, version) of the torch package of the target environment, or a clear error."""
    # Without pip's isolation (its PYTHONPATH and sitecustomize) the interpreter sees its own
    # site-packages again.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONNOUSERSITE", "PYTHONHOME")
    }
    tried = []
    for python in _python_candidates():
        run = subprocess.run(
            [python, "-c", _PROBE], env=env, capture_output=True, text=True, check=False
        )
        if run.returncode == 0:
            folder, version = json.loads(run.stdout.strip().splitlines()[-1])
            return folder, version
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        tried.append(f"{python}: {last}")
    raise RuntimeError(
        f"stog builds against the torch of the environment it is installed into, and none "
        f"imports ({'; '.join(tried)}). Install torch=={TORCH_VERSION} first "
        f"(pip install torch=={TORCH_VERSION}), or set LIBTORCH to a torch package folder."
    )


def _configured_libtorch():
    """The LIBTORCH that scripts/setup.sh wrote into .cargo/config.toml, if any."""
    try:
        with open(os.path.join(ROOT, ".cargo", "config.toml"), encoding="utf-8") as f:
            m = re.search(r'^LIBTORCH\s*=\s*"([^"]*)"', f.read(), re.MULTILINE)
    except OSError:
        return None
    return m.group(1) if m else None


def _configure():
    """Sets LIBTORCH (and, for another libtorch than the Rust build's, CARGO_TARGET_DIR)."""
    if "LIBTORCH" not in os.environ:
        folder, version = _find_torch()
        if version.split("+")[0] != TORCH_VERSION:
            raise RuntimeError(
                f"stog builds against torch {TORCH_VERSION} (tch 0.24 binds that libtorch); this "
                f"environment has torch {version} at {folder}. Install torch=={TORCH_VERSION}."
            )
        os.environ["LIBTORCH"] = folder
    libtorch = os.path.realpath(os.environ["LIBTORCH"])
    configured = _configured_libtorch()
    same = configured is not None and os.path.realpath(configured) == libtorch
    if not same and "CARGO_TARGET_DIR" not in os.environ:
        os.environ["CARGO_TARGET_DIR"] = os.path.join(ROOT, "target", "pip")
    print(
        f"stog: building against LIBTORCH={libtorch}"
        + ("" if same else f" in {os.environ['CARGO_TARGET_DIR']}"),
        file=sys.stderr,
    )


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _configure()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _configure()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


def get_requires_for_build_editable(config_settings=None):
    return maturin.get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return maturin.prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_sdist(sdist_directory, config_settings=None):
    return maturin.build_sdist(sdist_directory, config_settings)
