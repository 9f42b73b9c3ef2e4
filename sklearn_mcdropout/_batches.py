"""Mini-batches sliced from whole tensors, for skorch's ``iterator_train``."""

import torch


class _TensorBatches:
    """Iterate over (X, y) mini-batches of a skorch ``Dataset`` of tensors.

    Replaces ``torch.utils.data.DataLoader``: no per-row indexing and no
    collation, one permutation per epoch and a slice per batch. The tensors
    stay on their device.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.X, self.y = dataset.X, dataset.y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        X, y = self.X, self.y
        if self.shuffle:
            perm = torch.randperm(len(X), generator=self.generator).to(X.device)
            X, y = X[perm], (None if y is None else y[perm])
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], (None if y is None else y[start:stop])
