"""Prediction over the partitions of Dask collections, for data beyond memory."""

import inspect
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def predict_partitions(estimator, X, *, return_std=True):
    """Predict a Dask DataFrame or Dask array partition by partition, lazily.

    Maps ``estimator.predict(X_part, return_std=return_std)`` over the
    partitions of a Dask DataFrame (or the row blocks of a Dask array) and
    returns lazy Dask collections: nothing is computed until ``.compute()``,
    ``dask.compute`` or a write such as ``to_parquet``. Each partition is
    predicted where it is loaded, by the threads of the local scheduler or on
    the workers of a ``distributed`` cluster, so the data never has to fit in
    the memory of one process. The estimator is one node of the task graph,
    sent once to each worker that needs it.

    Requires the ``dask`` extra: ``pip install "sklearn-mcdropout[dask]"``.

    Parameters
    ----------
    estimator : estimator instance
        A fitted regressor, or a fitted :class:`~sklearn.pipeline.Pipeline`
        ending in one. With ``return_std=True`` its ``predict`` (the last
        step's, for a pipeline) must accept ``return_std``, as that of
        :class:`~sklearn_mcdropout.MCDropoutRegressor` does.

    X : dask.dataframe.DataFrame or dask.array.Array of shape \
            (n_samples, n_features)
        Query points. A DataFrame's partitions keep their column names, which
        the estimator checks against those seen in ``fit``. An array is
        rechunked to a single block along the features if it has several.

    return_std : bool, default=True
        If True, the standard deviation of the predictive distribution is
        returned along with the mean.

    Returns
    -------
    y_pred : dask.dataframe.DataFrame, dask.dataframe.Series, \
            dask.array.Array or tuple of dask.array.Array
        For a DataFrame ``X``: a DataFrame with float64 columns ``mean`` and
        ``std`` if ``return_std``, else a Series named ``mean``, with the
        index and divisions of ``X``. For an array ``X``: the tuple
        ``(y_mean, y_std)`` of float64 arrays of shape (n_samples,) chunked
        as the rows of ``X`` if ``return_std``, else ``y_mean`` alone.

    Raises
    ------
    ImportError
        If Dask is not installed.

    TypeError
        If ``X`` is not a Dask DataFrame or array, if ``estimator`` has no
        ``predict``, or if its ``predict`` does not accept ``return_std``
        while ``return_std=True``.

    ValueError
        If an array ``X`` is not 2-D, if ``X`` has another number of
        features than the estimator was fitted on, or if the estimator was
        fitted on several targets (one target per call is supported).

    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    MCDropoutRegressor.predict : Prediction of in-memory data.

    Notes
    -----
    With :class:`~sklearn_mcdropout.MCDropoutRegressor`, every pass applies
    one dropout mask per layer to all rows, so a row's mean and std do not
    depend on the other rows of its partition: the results are those of
    ``predict`` on the whole data in memory, however ``X`` is partitioned.
    They are equal to the last bit to ``predict`` on each partition; against
    ``predict`` on all rows at once a few values may differ by float32
    rounding (a relative 1e-7), because the matrix-product kernels of the
    CPU sum in an order that depends on the number of rows. For an array,
    the mean and the std are two views of one computation per block: compute
    them together, ``dask.compute(y_mean, y_std)``, or each block is
    predicted twice.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from sklearn_mcdropout import MCDropoutRegressor, predict_partitions
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    >>> y = X["a"] - 2 * X["b"]
    >>> model = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=5,
    ...                            n_passes=10, random_state=0).fit(X, y)
    >>> pred = predict_partitions(model, dd.from_pandas(X, npartitions=3))
    >>> pred.npartitions, list(pred.columns)
    (3, ['mean', 'std'])
    >>> pred.compute().shape
    (60, 2)
    """
    dask = _import_dask()
    if not hasattr(estimator, "predict"):
        raise TypeError(
            f"estimator must have a predict method, got {type(estimator).__name__}."
        )
    if not isinstance(return_std, (bool, np.bool_)):
        raise TypeError(f"return_std must be a bool, got {return_std!r}.")
    kind = _collection_kind(X)
    check_is_fitted(estimator)
    if return_std:
        _check_accepts_return_std(estimator)
    _check_n_features(estimator, X.shape[1])
    _check_one_target(estimator)
    model = dask.delayed(estimator, pure=True)
    if kind == "dataframe":
        return _predict_dataframe(model, X, bool(return_std))
    return _predict_array(model, X, bool(return_std))


def _import_dask():
    try:
        import dask
    except ImportError as exc:
        raise ImportError(
            "predict_partitions needs Dask; install the dask extra: "
            'pip install "sklearn-mcdropout[dask]".'
        ) from exc
    return dask


def _collection_kind(X):
    """'dataframe' or 'array'; a TypeError or ValueError for anything else."""
    module = type(X).__module__.split(".")[0]
    if module == "dask":
        import dask.array as da

        if isinstance(X, da.Array):
            if X.ndim != 2:
                raise ValueError(
                    f"X must be a 2-D Dask array of shape (n_samples, n_features), "
                    f"got {X.ndim} dimension(s)."
                )
            return "array"
        import dask.dataframe as dd

        if isinstance(X, dd.DataFrame):
            return "dataframe"
        if isinstance(X, dd.Series):
            raise TypeError(
                "X is a Dask Series; pass a DataFrame of the features, e.g. "
                "X.to_frame()."
            )
    raise TypeError(
        "X must be a Dask DataFrame or a Dask array, got "
        f"{type(X).__module__}.{type(X).__qualname__}. For data in memory call "
        "estimator.predict(X, return_std=True), or wrap it with "
        "dask.dataframe.from_pandas or dask.array.from_array."
    )


def _check_accepts_return_std(estimator):
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    params = inspect.signature(final.predict).parameters
    if "return_std" not in params and not any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    ):
        raise TypeError(
            f"{type(final).__name__}.predict does not accept return_std; pass "
            "return_std=False, or an estimator that returns a std such as "
            "MCDropoutRegressor."
        )


def _check_one_target(estimator):
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    n_outputs = getattr(final, "n_outputs_", 1)
    if isinstance(n_outputs, Integral) and n_outputs > 1:
        raise ValueError(
            f"predict_partitions predicts one target, but {type(final).__name__} "
            f"was fitted on {n_outputs}; fit one model per target, or predict "
            "in memory."
        )


def _check_n_features(estimator, n_features):
    expected = getattr(estimator, "n_features_in_", None)
    if isinstance(expected, Integral) and n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is "
            f"expecting {expected} features as input."
        )


def _predict_dataframe(model, X, return_std):
    index = X._meta.index
    if return_std:
        meta = pd.DataFrame({"mean": np.empty(0), "std": np.empty(0)}, index=index[:0])
    else:
        meta = pd.Series(np.empty(0), index=index[:0], name="mean")
    return X.map_partitions(_predict_frame, model, return_std, meta=meta)


def _predict_frame(part, estimator, return_std):
    if len(part) == 0:
        mean = std = np.empty(0)
    elif return_std:
        mean, std = _predict(estimator, part, True)
    else:
        mean = _predict(estimator, part, False)
    if return_std:
        return pd.DataFrame({"mean": mean, "std": std}, index=part.index)
    return pd.Series(mean, index=part.index, name="mean")


def _predict_array(model, X, return_std):
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if not return_std:
        return X.map_blocks(
            _predict_block,
            model,
            False,
            drop_axis=1,
            dtype=np.float64,
            meta=np.empty((0,), dtype=np.float64),
        )
    both = X.map_blocks(
        _predict_block,
        model,
        True,
        chunks=(X.chunks[0], (2,)),
        dtype=np.float64,
        meta=np.empty((0, 0), dtype=np.float64),
    )
    return both[:, 0], both[:, 1]


def _predict_block(block, estimator, return_std):
    if block.shape[0] == 0:
        return np.empty((0, 2) if return_std else (0,))
    if return_std:
        return np.column_stack(_predict(estimator, block, True))
    return _predict(estimator, block, False)


def _predict(estimator, X, return_std):
    if return_std:
        mean, std = estimator.predict(X, return_std=True)
        return np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    return np.asarray(estimator.predict(X), dtype=np.float64)
