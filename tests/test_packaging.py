"""Every Python package folder of the project is listed in pyproject.toml, so a
regular (non-editable) install ships all of it."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def listed_packages():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    block = re.search(r"^packages\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
    return set(re.findall(r'"([\w.]+)"', block))


def test_every_package_folder_is_listed():
    found = set()
    for top in ("autograd", "knetpy"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            if "__init__.py" in files:
                found.add(os.path.relpath(folder, ROOT).replace(os.sep, "."))
    missing = found - listed_packages()
    assert not missing, f"add these packages to pyproject.toml [tool.setuptools] packages: {missing}"
    assert "knetpy.kernels" in listed_packages()
