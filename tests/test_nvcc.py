"""Every CUDA source compiles to PTX with nvcc for sm_75, sm_80 and sm_90
without any error or warning (skipped where nvcc is not installed)."""
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from knetpy import kernels

NVCC = shutil.which("nvcc")
ARCHS = ("sm_75", "sm_80", "sm_90")

pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")


def nvcc_ptx(src, arch, out_dir):
    """Compile ``src`` to PTX for ``arch``; (returncode, stderr)."""
    out = os.path.join(out_dir, f"{os.path.basename(src)}.{arch}.ptx")
    cmd = [NVCC, "-ptx", f"-arch={arch}", "--std=c++17", "-Werror", "all-warnings",
           "-I", kernels.include_dir(), "-o", out, src]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip(), out


@pytest.mark.parametrize("family", kernels.families())
def test_compiles_to_ptx_without_warnings(family, tmp_path):
    src = kernels.path(family)
    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(lambda a: nvcc_ptx(src, a, str(tmp_path)), ARCHS))
    for arch, (rc, msg, out) in zip(ARCHS, results):
        assert rc == 0 and msg == "", f"nvcc -ptx -arch={arch} {family}.cu:\n{msg}"
        with open(out) as f:
            ptx = f.read()
        assert f".target {arch}" in ptx
        # every extern "C" entry point is in the PTX under its plain name
        assert ptx.count(".entry") >= 2, family


def test_a_warning_fails_the_check(tmp_path):
    src = tmp_path / "warn.cu"
    src.write_text('extern "C" __global__ void w(int* x) { int unused = 3; x[0] = 1; }\n')
    rc, msg, _ = nvcc_ptx(str(src), "sm_75", str(tmp_path))
    assert rc != 0 or msg != ""
