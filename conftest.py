"""pytest set-up shared by tests/ and the nbval notebook runs.

A fresh user's ``pytest`` must not start an hour of training: the notebooks run at the quick
budget unless BACKPROP_BUDGET is set. Kernels started by nbval inherit this environment.
"""
import os

os.environ.setdefault("BACKPROP_BUDGET", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow's own CPU kernels: the tests compare runs bit for bit, which oneDNN's kernels (the
# notebooks' default, for speed; see shared/runtime.py) do not always repeat
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
