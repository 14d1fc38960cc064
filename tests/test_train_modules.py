"""The training modules: their layout (one job each, public names only) and
their docstring examples."""
import ast
import doctest
import importlib
from pathlib import Path

import numpy as np
import pytest

import knetpy

MODULES = ["knetpy.optim", "knetpy.update", "knetpy.train", "knetpy.batches", "knetpy.distributed",
           "knetpy.progress", "knetpy.hyperopt", "knetpy.schedules", "knetpy.plot"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, extraglobs={"np": np, "update_": knetpy.update_,
                                              "SGD": knetpy.SGD, "Adam": knetpy.Adam,
                                              "Param": knetpy.Param},
                             optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, name


@pytest.mark.parametrize("name", MODULES)
def test_imports_only_public_names_of_other_knetpy_modules(name):
    path = ROOT / (name.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{name} imports {private} from .{node.module}"
    assert len(path.read_text().splitlines()) <= 600


def test_the_rules_module_holds_rules_and_the_machinery_its_own():
    import knetpy.optim as optim
    import knetpy.update as update
    assert not hasattr(optim, "update_") and not hasattr(optim, "run_updates")
    assert update.update_ is knetpy.update_
    assert knetpy.Adam.__module__ == "knetpy.optim"        # checkpoints name it there
    assert knetpy.minibatch is knetpy.train.minibatch      # the old import path still works
