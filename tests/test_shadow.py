"""A clear ImportError when another package's `autograd` (HIPS autograd, same
import name) shadows knetpy's own, or was installed over it (issue 15)."""
import os
import shutil
import subprocess
import sys

import autograd

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.dirname(os.path.abspath(autograd.__file__))


def run(code, path_first):
    """Run ``code`` in a fresh interpreter with ``path_first`` at the front of sys.path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(path_first)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.run([sys.executable, "-c", code], cwd=str(path_first), env=env,
                          capture_output=True, text=True, timeout=120)


def test_our_autograd_carries_the_marker():
    assert autograd.__knetpy__ is True


def test_import_knetpy_with_hips_autograd_first_on_the_path(tmp_path):
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "from .differential_operators import grad\n")        # HIPS's __init__, in short
    (fake / "differential_operators.py").write_text("def grad(f):\n    return f\n")
    r = run("import knetpy", tmp_path)
    assert r.returncode != 0
    assert "ImportError: knetpy: `import autograd` found" in r.stderr
    assert str(fake / "__init__.py") in r.stderr
    assert "HIPS autograd" in r.stderr and "pip uninstall -y autograd" in r.stderr
    assert "--force-reinstall" in r.stderr


def test_import_autograd_where_hips_files_overwrote_ours(tmp_path):
    mixed = tmp_path / "autograd"
    shutil.copytree(OURS, mixed, ignore=shutil.ignore_patterns("__pycache__"))
    # HIPS autograd's core.py starts with imports our package does not provide
    (mixed / "core.py").write_text("from .tracer import trace, primitive, toposort, Node, Box\n")
    r = run("import autograd", tmp_path)
    assert r.returncode != 0
    assert "ImportError: autograd: the package at" in r.stderr
    assert "HIPS autograd" in r.stderr and "pip uninstall -y autograd" in r.stderr
    # and a core.py that imports but is not the tape
    (mixed / "core.py").write_text("def make_vjp(fun, x):\n    return fun\n")
    r = run("import knetpy", tmp_path)
    assert r.returncode != 0 and "is not knetpy's tape" in r.stderr


def test_the_real_package_imports_in_a_subprocess(tmp_path):
    r = run("import knetpy, autograd; print(autograd.__knetpy__)", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
