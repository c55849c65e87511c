"""Training batches gathered on demand: a ``keras.utils.PyDataset`` over any indexable set.

Imported only when a neural model trains (it imports Keras). :class:`Batches` hands Keras
one batch at a time from ``fetch(indices)``, so memory holds the data and a few batches,
never every window. A new order is drawn after every epoch (``on_epoch_end``, which
every Keras 3 calls; Keras also calls it once after peeking at the first batch) from one
NumPy Generator seeded with the run's seed: the same seed gives the same batches, epoch
after epoch, on every run. ``workers=0`` keeps it in this process (no threads, no pickling), and
``model.fit`` must be called with ``shuffle=False`` so that Keras keeps that order.

>>> import numpy as np
>>> b = Batches(5, lambda i: (np.asarray(i)[:, None], np.asarray(i)), batch_size=2)
>>> len(b), [b[k][1].tolist() for k in range(len(b))]
(3, [[0, 1], [2, 3], [4]])
>>> s = Batches(5, lambda i: (np.asarray(i)[:, None], np.asarray(i)), batch_size=5, seed=0)
>>> s.on_epoch_end(); sorted(s[0][1].tolist())
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from forecaster.windows import index_dtype


class Batches(keras.utils.PyDataset):
    """``ceil(n / batch_size)`` batches of ``fetch(indices)``, in order or shuffled per epoch.

    Args:
        n: The number of items (windows).
        fetch: Returns the ``(x, y)`` batch of an integer array of item indices.
        batch_size: Items per batch (the last batch may be smaller).
        seed: None: items in order (validation); else a permutation from
            ``np.random.default_rng(seed)``, and a new one after every epoch.
    """

    def __init__(self, n: int, fetch: Callable, batch_size: int, *, seed: int | None = None):
        super().__init__(workers=0, use_multiprocessing=False)
        self.n, self.fetch, self.batch_size = int(n), fetch, int(batch_size)
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.order = None
        self.on_epoch_end()

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, batch_size: int, *,
                    seed: int | None = None) -> Batches:
        """Batches of in-memory arrays (tests and small experiments)."""
        return cls(len(x), lambda index: (x[index], y[index]), batch_size, seed=seed)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, k: int):
        if not 0 <= k < len(self):
            raise IndexError(f"batch {k} of {len(self)}")
        return self.fetch(self.order[k * self.batch_size:(k + 1) * self.batch_size])

    def on_epoch_end(self) -> None:
        """Draw the next epoch's order: ``rng.permutation(n)``'s, in int32 below ``2**31`` items
        and in place of the last one (one index array at a time)."""
        if self.rng is None and self.order is not None:
            return  # in order: the same every epoch
        self.order = None  # freed before the next one is drawn
        order = np.arange(self.n, dtype=index_dtype(self.n))
        if self.rng is not None:
            self.rng.shuffle(order)  # the numbers of rng.permutation(n), in order's own dtype
        self.order = order
