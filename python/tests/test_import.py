"""How the package loads: libtorch found without LD_LIBRARY_PATH, another torch refused."""

import os
import subprocess
import sys
import textwrap

import stog

PACKAGE_ROOT = os.path.dirname(os.path.dirname(stog.__file__))


def run(code, extra_path=()):
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env["PYTHONPATH"] = os.pathsep.join([*extra_path, PACKAGE_ROOT])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_the_extension_finds_libtorch_by_itself():
    # The extension module loaded alone, before torch: its rpath must find libtorch.
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        path = {stog._core.__file__!r}
        spec = importlib.util.spec_from_file_location("stog._core", path)
        core = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(core)
        assert "torch" not in sys.modules
        print(core.device_available("cpu"), core.device_available("tpu"))
        """
    )
    out = run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


def test_another_torch_version_is_refused_at_import(tmp_path):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text('__version__ = "2.10.0+cpu"\n')
    out = run("import stog", extra_path=[str(tmp_path)])
    assert out.returncode != 0
    assert "ImportError: stog is built for torch 2.11.0" in out.stderr
    assert "torch 2.10.0+cpu is installed" in out.stderr
