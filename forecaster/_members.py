"""Seed ensembles of a neural model: several fits, one Keras model forecasting their median.

On short series a network's forecast depends on its random initialisation as much as on
the data; the median of a few fits that differ only in their seed is steadier and, in
the M4 Hourly and ``small`` benchmarks, more accurate than any one of them. The members
are trained one after another, each exactly as a single fit would be (its own seed), and
then wrapped in one functional model whose output is the element-wise median of theirs
(:class:`MemberMedian`, a registered layer: the saved ``model.keras`` loads in safe mode).
Its parameter count is the members' total.

Imports Keras: only :mod:`forecaster.forecaster`'s neural path uses it.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="forecaster")
class MemberMedian(keras.layers.Layer):
    """The element-wise median of its inputs (a list of same-shaped tensors)."""

    def call(self, inputs):
        k = len(inputs)
        ranked = keras.ops.sort(keras.ops.stack(inputs, axis=1), axis=1)  # (batch, k, ...)
        return (ranked[:, (k - 1) // 2] + ranked[:, k // 2]) / 2  # (batch, ...)


def median_model(members: list) -> keras.Model:
    """One model forecasting the median of ``members`` (built models with the same input).

    >>> import numpy as np
    >>> from forecaster import models
    >>> config = models.make_config("mlp", {"units": 2, "layers": 1})
    >>> parts = [models.module("mlp").build(config, lookback=4, n_features=1, horizon=2)
    ...          for _ in range(3)]
    >>> x = np.random.default_rng(0).normal(size=(5, 4, 1)).astype("float32")
    >>> combined = median_model(parts)
    >>> bool(np.allclose(combined(x), np.median([p(x) for p in parts], axis=0), atol=1e-6))
    True
    >>> combined.count_params() == 3 * parts[0].count_params()
    True
    """
    first = members[0]
    inputs = keras.Input(shape=first.input_shape[1:], name="window")
    renamed = [keras.Model(m.input, m.output, name=f"member_{i}") for i, m in enumerate(members)]
    outputs = MemberMedian(name="median")([m(inputs) for m in renamed])
    return keras.Model(inputs, outputs, name=f"{first.name}_median_of_{len(members)}")
