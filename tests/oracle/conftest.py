"""The oracle suite compares knetpy with PyTorch; without torch it is skipped whole."""
import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["test_*.py"]
