"""imgaug 0.4.0 runs a realistic augmentation pipeline on NumPy 2 through shared.imgaug_compat."""
import warnings

import numpy as np


def test_pipeline_runs_on_numpy2():
    assert int(np.__version__.split(".")[0]) >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shim itself must not warn
        from shared.imgaug_compat import ia, iaa
    ia.seed(0)
    pipeline = iaa.Sequential([
        iaa.Fliplr(0.5),
        iaa.Affine(translate_percent={"x": (-0.2, 0.2), "y": (-0.2, 0.2)}, rotate=(-25, 25),
                   scale=(0.8, 1.2)),
        iaa.Crop(px=(0, 4)),
        iaa.AddToHueAndSaturation((-20, 20)),
        iaa.GaussianBlur(sigma=(0, 1.0)),
        iaa.ElasticTransformation(alpha=(0, 5.0), sigma=0.5),
    ], random_order=True)
    batch = np.random.default_rng(0).integers(0, 256, size=(16, 32, 32, 3), dtype=np.uint8)
    out = pipeline(images=batch)
    assert out.shape == batch.shape and out.dtype == np.uint8
    assert not np.array_equal(out, batch)
