"""California housing through scikit-learn's own loader, with a clear error."""

from sklearn.datasets import fetch_california_housing, get_data_home


def load_california_housing(
    *, data_home=None, download_if_missing=True, as_frame=False
):
    """Load the California housing data set as ``(X, y)``.

    A thin wrapper of :func:`sklearn.datasets.fetch_california_housing` that
    turns a failed download into one readable error. scikit-learn looks for
    its cache ``cal_housing_py3.pkz`` in ``data_home``, by default the folder
    named by the ``SCIKIT_LEARN_DATA`` environment variable or
    ``~/scikit_learn_data``, and downloads it there if it is missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder of scikit-learn's data cache; see
        :func:`sklearn.datasets.get_data_home`.

    download_if_missing : bool, default=True
        If False, raise instead of downloading when the cache is missing.

    as_frame : bool, default=False
        If True, X is a pandas DataFrame and y a Series.

    Returns
    -------
    X : ndarray or DataFrame of shape (20640, 8)
        The eight district features.

    y : ndarray or Series of shape (20640,)
        Median house value, in units of $100,000.

    Raises
    ------
    OSError
        If the data is neither cached nor downloadable; the message says how
        to provide it.

    Examples
    --------
    >>> from sklearn_mcdropout import load_california_housing
    >>> X, y = load_california_housing()  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((20640, 8), (20640,))
    """
    try:
        return fetch_california_housing(
            data_home=data_home,
            download_if_missing=download_if_missing,
            return_X_y=True,
            as_frame=as_frame,
        )
    except OSError as exc:  # URLError and socket errors are OSErrors too
        folder = get_data_home(data_home)
        raise OSError(
            f"California housing is not cached in {folder} and could not be "
            f"downloaded ({type(exc).__name__}: {exc}). Connect to the internet "
            "once, or copy scikit-learn's cache file cal_housing_py3.pkz into a "
            "folder and point the SCIKIT_LEARN_DATA environment variable (or "
            "data_home=) at it."
        ) from None
