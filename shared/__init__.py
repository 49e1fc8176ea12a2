"""Helpers shared by the backprop-by-hand notebooks.

Importing this package is cheap: it never imports TensorFlow. Modules:

- ``runtime``   run budgets, seeding, the run header, TensorFlow set-up
- ``data``      CIFAR-10 / MNIST / digits loaders, subsets, standardisation, batches
- ``gradcheck`` numerical gradients and gradient comparison tables
- ``records``   per-epoch training history, divergence guard, results files
- ``plots``     the articles' 2x2 training-curve figure, run overlays, image grids
- ``nbguard``   a hash of a notebook's code cells (stale-output guard)
"""
from shared.runtime import (  # noqa: F401
    BUDGETS,
    ConfigError,
    current_budget,
    choose_settings,
    run_header,
    seed_everything,
)

__all__ = ["BUDGETS", "ConfigError", "current_budget", "choose_settings", "run_header",
           "seed_everything"]
