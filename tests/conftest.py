"""tests/ holds the helpers the tests share (notebook_loops.py, mutation_check.py, exercises/):
put it on the path for the tests in tests/shared/ and tests/notebooks/."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
