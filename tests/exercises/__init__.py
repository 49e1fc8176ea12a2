"""Solutions to the notebooks' exercises, one module per notebook (``nbNN.py``), for
``tests/notebooks/test_exercises.py``:
``SOLUTIONS = {k: {"correct": source, "wrong": [(source, tensor), ...]}}``, where each source
replaces the stub cell of exercise k and ``tensor`` is the name the check's error message must
give."""
