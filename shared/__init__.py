"""Helpers shared by the backprop-by-hand notebooks; import the module you need.

Importing this package is cheap: it imports none of its modules, so never TensorFlow. Modules:

- ``notebook``      the one start call of every notebook: settings, seeding, header, loop
- ``runtime``       run budgets, seeding, the run header, TensorFlow set-up, where files go
- ``data``          CIFAR-10 / MNIST / digits loaders, subsets, standardisation, batches
- ``gradcheck``     numerical gradients and gradient comparison tables
- ``layers_np``     NumPy layers, losses and optimisers shared by the NumPy notebooks
- ``tf_layers``     hand-written TensorFlow layers and Adam / AMSGrad shared by the TF notebooks
- ``train``         the one training loop: epochs of a step, progress, divergence guard, resume
- ``recipe``        the done-right recipe (schedule, augmented batches, SGD, BN moving
                    averages, evaluation with mirroring, the twin check), taught in notebook 03
- ``exercises``     the exercises' check: the reader's tensors against the notebook's reference
- ``records``       per-epoch training history, divergence guard, results files
- ``checkpoint``    per-epoch checkpoints, so that a full-budget run resumes after an interruption
- ``plots``         the articles' 2x2 training-curve figure, run overlays, image grids
- ``imgaug_compat`` imgaug 0.4.0 made importable on NumPy 2
- ``nbguard``       a hash of a notebook's code cells (stale-output guard)
- ``nbload``        a notebook's definitions loaded without running it (for tests, benchmarks)
- ``reproduce``     the main job: run every notebook at a budget and write results/summary.md
"""
