"""MCDropoutClassifier: Monte Carlo dropout class probabilities and uncertainty."""

from numbers import Real
from typing import ClassVar

import numpy as np
from scipy.special import softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from torch import nn

from ._base import (
    _check_stored_size,
    _MCDropoutBase,
)
from ._mc import _mc_class_stats, _mc_samples
from ._training import _ClassifierNet
from .metrics._classification import _entropy


class MCDropoutClassifier(ClassifierMixin, _MCDropoutBase):
    """Neural network classifier with Monte Carlo dropout probabilities.

    A multilayer perceptron (or any torch network with dropout layers that
    returns one logit per class) is trained with dropout and cross-entropy by
    skorch; at prediction time dropout stays on and the class probabilities
    are the mean over ``n_passes`` stochastic passes of the softmax of each
    pass, the Monte Carlo estimate of the predictive distribution of Gal &
    Ghahramani (2016). Where the passes disagree, the predictive distribution
    spreads out, and :meth:`predict_uncertainty` splits its entropy into the
    part the passes share (aleatoric) and their disagreement (epistemic,
    the mutual information).

    Every pass uses one dropout mask per layer shared by all rows, the same
    engine as :class:`MCDropoutRegressor`: predictions are a deterministic
    function of ``X``, the same (up to float32 rounding) for a row alone or
    in a batch. ``fit`` takes
    ``sample_weight``; ``early_stopping``, ``warm_start`` and
    :meth:`partial_fit` work as in :class:`~sklearn.neural_network.MLPClassifier`,
    for example to add epochs on the growing labelled set of an
    active-learning loop.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers,), default=(128, 128)
        Width of each hidden layer of the default network, each followed by
        ``activation`` and a dropout layer. Ignored if ``module`` is given.

    dropout : float or "concrete", default=0.1
        Dropout probability p of every dropout layer of the default network,
        in [0, 1). With ``dropout=0`` the passes are identical and the
        epistemic part of the uncertainty is zero. ``"concrete"`` learns the
        rate of each layer with the weights (Concrete dropout, Gal, Hron &
        Kendall 2017; :class:`~sklearn_mcdropout.ConcreteDropout` layers,
        starting at 0.1): the training loss gets the objective's KL term,
        which pulls the rates towards 0.5 with a weight of 1 / n_samples, so
        the rates, and the epistemic part, fall as the data grow. The
        fitted rates are in ``dropout_``. Ignored if ``module`` is given (a
        custom network may hold ``ConcreteDropout`` layers itself).

    activation : {"relu", "tanh", "logistic", "identity", "gelu", "elu"}, \
            default="relu"
        Activation of the hidden layers of the default network.

    n_passes : int, default=100
        Number T of stochastic forward passes in :meth:`predict_proba`; with
        ``n_members > 1``, T passes of each member.

    n_members : int, default=1
        Number M of networks in an ensemble of MC dropout networks, trained
        at once as one batched network, each with its own initial weights
        and batch order; the class probabilities average the softmax of all
        M x T passes, so the mutual information includes the disagreement
        between members. See :class:`MCDropoutRegressor`. Needs a chain
        network (see ``module``).

    weight_decay : float, default=1e-4
        L2 penalty on the weights (not the biases), as the ``weight_decay`` of
        :class:`torch.optim.Adam`. With ``ConcreteDropout`` layers it is
        added to the prior's weight term of the Concrete objective; 0 leaves
        that objective alone.

    length_scale : float, default=1e-2
        Prior length-scale l of the weights in the Concrete dropout objective
        (the user guide gives it), used only with ``ConcreteDropout`` layers
        (``dropout="concrete"``). 1e-2 is the value of the authors' code.

    lr : float, default=1e-3
        Learning rate of the Adam optimiser.

    lr_schedule : {"constant", "cosine"}, default="constant"
        Learning rate over the epochs. ``"constant"`` keeps ``lr``;
        ``"cosine"`` anneals it from ``lr`` at the first epoch towards 0 at
        the last, lr (1 + cos(pi e / max_epochs)) / 2 at epoch e (from 0),
        which usually reaches a lower loss in the same number of epochs.
        The rate of each epoch is in ``net_.history[:, "lr"]``.

    max_epochs : int, default=100
        Number of passes over the training data.

    batch_size : int, default=64
        Mini-batch size.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks for training: ``skorch.callbacks.Callback``
        instances or ``(name, callback)`` pairs, added to those of the skorch
        net (for example ``skorch.callbacks.ProgressBar()``, or a callback
        that keeps a copy of the weights every few epochs). As in skorch,
        they are used as given (:func:`~sklearn.base.clone` copies them), and
        after :meth:`fit` they are in ``net_.callbacks_``. The net has no
        validation split, so skorch's scoring and early-stopping callbacks
        monitor the training data (``"train_loss"``; ``early_stopping=True``
        monitors held-out rows, as ``"valid_loss"``); one that raises
        ``KeyboardInterrupt`` ends training there, as skorch's
        ``EarlyStopping`` does. A callback with per-batch hooks makes each
        epoch run skorch's own batch loop, a little slower on small networks.

    validation_fraction : float, default=0.1
        Fraction of the training rows held out (at least one) to monitor the
        loss when ``early_stopping=True``. Unused otherwise.

    early_stopping : bool, default=False
        Whether to stop training when the cross-entropy on the held-out rows
        (dropout off, weighted by ``sample_weight``) stops improving, as
        :class:`~sklearn.neural_network.MLPClassifier` does: once it has not
        fallen below its best value minus ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs, training stops and the
        network's weights are those of the best epoch. Not available in
        :meth:`partial_fit`.

    n_iter_no_change : int, default=10
        Maximum number of epochs without an improvement of ``tol`` of the
        held-out loss before training stops, with ``early_stopping=True``.

    tol : float, default=1e-4
        The improvement of the held-out cross-entropy (nats) that counts,
        with ``early_stopping=True``.

    warm_start : bool, default=False
        When True and the estimator is fitted, :meth:`fit` continues training
        the fitted network (with a new optimiser, as MLPClassifier does) for
        ``max_epochs`` more epochs; ``y`` may only hold classes of
        ``classes_``, and parameters that would build another network
        (layers, widths, activation, dropout rates, number of members) are
        refused. When False, :meth:`fit` starts from a new network.

    device : str or torch.device, default="cpu"
        Device of training and prediction, e.g. "cpu" or "cuda".

    pass_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the prediction passes; see :class:`MCDropoutRegressor`.
        The softmax and the averages are always computed in float64.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, training dropout, batch order and the
        prediction masks. The global torch random state is left as it was;
        with an int or a RandomState instance so is NumPy's, while ``None``
        draws the seeds from NumPy's global random state (as scikit-learn's
        estimators do), advancing it. Pass an int for reproducible fits.

    verbose : int, default=0
        If positive, skorch prints the training loss after each epoch.

    module : torch.nn.Module instance or class, or list, default=None
        A custom network mapping (n, ``n_features_in_``) float32 tensors to
        logits of shape (n, n_classes), classes in the order of ``classes_``;
        it must contain at least one :class:`torch.nn.Dropout` layer. A class
        is instantiated without arguments. It is deep-copied at fit. If None,
        an MLP is built from ``hidden_layer_sizes``, ``activation`` and
        ``dropout``. With ``n_members > 1``, a chain of Linear, elementwise
        activation and Dropout layers, or a list of the members' networks;
        other modules are refused (see :class:`MCDropoutRegressor`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.

    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; its ``module_`` is the trained network and its
        ``history`` the training history.

    weight_decay_ : float
        The weight decay used in training.

    n_iter_ : int
        Number of epochs trained, over all the calls of a warm start or of
        :meth:`partial_fit`.

    loss_curve_ : list of float
        The mean training cross-entropy of each epoch (weighted by
        ``sample_weight``; with ``n_members > 1``, the sum of the members').

    best_loss_ : float or None
        The lowest of ``loss_curve_``; None with ``early_stopping=True``.

    validation_scores_ : list of float or None
        With ``early_stopping=True``, minus the held-out cross-entropy of
        each epoch (greater is better, as MLPClassifier's scores; its score
        is the accuracy, the loss here is what is monitored; with
        ``n_members > 1``, the members' mean); else None.

    best_validation_score_ : float or None
        The best of ``validation_scores_`` in the last fit, that of the
        weights kept; None without early stopping.

    dropout_ : ndarray of shape (n_dropout_layers,) or \
            (n_members, n_dropout_layers)
        The rate of each dropout layer of the fitted network, in registration
        order: the learned rates of ``ConcreteDropout`` layers, the fixed
        rates of the others; with ``n_members > 1``, one row per member.
        The prediction passes draw their masks with these rates.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    MCDropoutRegressor : The regressor on the same Monte Carlo engine.
    sklearn.neural_network.MLPClassifier : A deterministic network, whose
        softmax probabilities carry no model uncertainty.
    sklearn_mcdropout.metrics.mutual_information : The epistemic part of the
        predictive entropy, from stored passes.

    Notes
    -----
    With :math:`p_t(x)` the softmax of pass t, the predictive distribution is
    :math:`\\bar p(x) = \\frac{1}{T} \\sum_t p_t(x)` (Gal & Ghahramani 2016,
    Section 5.2), and its entropy splits into

    .. math::

        \\underbrace{H[\\bar p]}_{\\text{predictive}} =
        \\underbrace{\\tfrac{1}{T} \\textstyle\\sum_t H[p_t]}_{\\text{expected
        (aleatoric)}} + \\underbrace{I}_{\\text{mutual information
        (epistemic)}},

    the mutual information between the prediction and the weights that BALD
    (Houlsby et al. 2011) uses for active learning.

    References
    ----------
    .. [1] Y. Gal and Z. Ghahramani, "Dropout as a Bayesian Approximation:
       Representing Model Uncertainty in Deep Learning", ICML 2016.
    .. [2] N. Houlsby, F. Huszár, Z. Ghahramani and M. Lengyel, "Bayesian
       Active Learning for Classification and Preference Learning", 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_mcdropout import MCDropoutClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     MCDropoutClassifier(hidden_layer_sizes=(32,), max_epochs=200,
    ...                         random_state=0),
    ... ).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> bool(clf.score(X, y) > 0.9)
    True

    One more epoch on new rows, as in an active-learning loop:

    >>> clf[-1].partial_fit(clf[0].transform(X[:10]), y[:10]).n_iter_
    201
    """

    _parameter_constraints: ClassVar[dict] = {
        **_MCDropoutBase._parameter_constraints,
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }
    _net_class = _ClassifierNet
    _criterion = nn.CrossEntropyLoss
    _validation_callbacks = ("valid_loss", "valid_acc")
    _no_epistemic_part = "the mutual information and the variation ratio are zero."

    def __init__(
        self,
        hidden_layer_sizes=(128, 128),
        *,
        dropout=0.1,
        activation="relu",
        n_passes=100,
        n_members=1,
        weight_decay=1e-4,
        length_scale=1e-2,
        lr=1e-3,
        lr_schedule="constant",
        max_epochs=100,
        batch_size=64,
        callbacks=None,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="cpu",
        pass_dtype="float32",
        random_state=None,
        verbose=0,
        module=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.activation = activation
        self.n_passes = n_passes
        self.n_members = n_members
        self.weight_decay = weight_decay
        self.length_scale = length_scale
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.pass_dtype = pass_dtype
        self.random_state = random_state
        self.verbose = verbose
        self.module = module

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network with dropout and cross-entropy.

        With ``warm_start=True`` and a fitted network, training continues
        from it; ``y`` must then have the classes of the first fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels: integers, strings or any sortable labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, with a positive sum; None
            weighs them equally. They weigh each row's cross-entropy in
            training and in the early-stopping loss; rows of weight 0 are
            left out (and so are classes that only they hold).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train the network for one epoch on the given rows.

        The first call builds the network, with one output per class of
        ``classes``; later calls continue from the fitted network and
        optimiser, as MLPClassifier's ``partial_fit`` does, for example on
        the labelled set of an active-learning loop as it grows. Not
        available with ``early_stopping=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes_``.

        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem. Required at the first call,
            where ``y`` need not hold all of them; later calls may only
            repeat it.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows; see :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        if classes is None and not hasattr(self, "net_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def _fit_transform_y(self, y, sample_weight, first=True, classes=None):
        """Class indices into ``classes_``, int64.

        A first fit sets ``classes_``: the classes of ``y`` (of ``classes`` if
        given); continued training keeps them.
        """
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(y if classes is None else classes)
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} is not classes_="
                f"{self.classes_.tolist()} of the first call: the network has "
                "one output per class of the first call."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels {unknown.tolist()} that are not in classes_="
                f"{self.classes_.tolist()}: the network has one output per "
                "class of the first call."
            )
        if len(self.classes_) < 2:
            raise ValueError(
                "MCDropoutClassifier needs samples of at least 2 classes to fit; "
                f"the data contain only one class: {self.classes_.tolist()[0]!r}."
            )
        y_encoded = np.searchsorted(self.classes_, y).astype(np.int64)
        return y_encoded, self._n_network_outputs()

    def _n_network_outputs(self):
        return len(self.classes_)

    def predict_proba(self, X):
        """Monte Carlo predictive class probabilities.

        The mean over ``n_passes`` stochastic passes of the softmax of each
        pass, each pass with one dropout mask per layer shared by all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns in the order of ``classes_``;
            rows sum to 1.
        """
        return self._class_stats(X)[0]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, columns in the order of
            ``classes_``; ``-inf`` where a probability underflows to 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class under the Monte Carlo predictive distribution.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of ``classes_`` with the largest :meth:`predict_proba`.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_uncertainty(self, X):
        """Uncertainty of each prediction, from the same passes as predict_proba.

        Streams over the passes, so memory does not grow with ``n_passes``.
        Entropies are in nats. The functions of the same names in
        :mod:`sklearn_mcdropout.metrics` compute the same values from
        :meth:`predict_proba_passes`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        uncertainty : :class:`~sklearn.utils.Bunch`
            With arrays of shape (n_samples,):

            - ``predictive_entropy``: entropy of :meth:`predict_proba`, the
              total uncertainty;
            - ``expected_entropy``: mean over the passes of each pass's
              entropy, the aleatoric part;
            - ``mutual_information``: their difference (BALD), the epistemic
              part: large where the passes disagree;
            - ``variation_ratio``: one minus the fraction of passes whose
              most probable class is the most frequent one.
        """
        proba, expected_entropy, votes = self._class_stats(X)
        predictive_entropy = _entropy(proba)
        return Bunch(
            predictive_entropy=predictive_entropy,
            expected_entropy=expected_entropy,
            mutual_information=np.maximum(predictive_entropy - expected_entropy, 0),
            variation_ratio=1 - votes.max(axis=1) / self._n_components(),
        )

    def predict_proba_passes(self, X):
        """Softmax probabilities of each pass (of every member).

        Column ``t * n_members + m`` is pass t of member m.

        Their mean over the passes is :meth:`predict_proba`. Needs
        ``n_samples * n_passes * n_members * n_classes`` values in memory and
        refuses more than ``MAX_STORED_PASS_VALUES``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        proba_passes : ndarray of shape (n_samples, n_passes * n_members, \
                n_classes)
            Class probabilities of each pass.
        """
        Xt = self._validate_X_predict(X)
        _check_stored_size(Xt.shape[0], self._n_components(), len(self.classes_))
        logits = _mc_samples(*self._runner_and_masks(), Xt)
        return softmax(logits, axis=-1)

    def _class_stats(self, X):
        Xt = self._validate_X_predict(X)
        return _mc_class_stats(*self._runner_and_masks(), Xt)

    def _adapt_module_output(self, module, out_shape, n_outputs):
        if out_shape != (2, n_outputs):
            raise ValueError(
                f"module must map (n, n_features) to logits of shape (n, "
                f"n_classes) = (n, {n_outputs}), got {out_shape} for n=2."
            )
        return module

    def _resolve_weight_decay(self, module, n_train):
        return float(self.weight_decay)
