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
from ._mc import _mc_class_stats, _mc_group_proba, _mc_samples
from ._training import _ClassifierNet
from .metrics._classification import _entropy


class MCDropoutClassifier(ClassifierMixin, _MCDropoutBase):
    """Neural network classifier with Monte Carlo dropout probabilities.

    A multilayer perceptron (or any torch network with dropout layers that
    returns one logit per class) is trained with dropout and cross-entropy by
    skorch; at prediction time dropout stays on, and the class probabilities
    are the mean of the softmax of ``n_passes`` stochastic passes (Gal &
    Ghahramani 2016). :meth:`predict_uncertainty` splits their entropy into
    the part the passes share (aleatoric) and their disagreement (epistemic,
    the mutual information). Each pass uses one dropout mask per layer for
    all rows, as in :class:`MCDropoutRegressor`: predictions are a
    deterministic function of ``X``, the same (up to float32 rounding) for a
    row alone or in a batch.

    With its defaults, :meth:`fit` chooses the dropout rate and the number
    of epochs on held-out rows, by log loss (:ref:`auto`); fix either by
    giving its value. Then tune ``hidden_layer_sizes`` and ``lr``. ``sample_weight``,
    ``early_stopping``, ``warm_start`` and :meth:`partial_fit` work as in
    :class:`~sklearn.neural_network.MLPClassifier`, for example to add epochs
    on the growing labelled set of an active-learning loop.

    Put a scaler first, as in the examples. A
    :class:`~sklearn.pipeline.Pipeline` forwards :meth:`predict_proba` and
    :meth:`predict_log_proba`, but has no :meth:`predict_uncertainty`,
    :meth:`predict_proba_passes` or :meth:`partial_fit` (AttributeError):
    call them on the last step with the transformed features,
    ``clf[-1].predict_uncertainty(clf[:-1].transform(X))``.

    Read more in the :ref:`User Guide <classification>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers,), default=(128, 128)
        Width of each hidden layer of the default network, each followed by
        ``activation`` and a dropout layer. Ignored if ``module`` is given.

    dropout : float, "auto" or "concrete", default="auto"
        Dropout probability of the default network's dropout layers, in
        [0, 1); 0 makes a network's passes identical. "auto" chooses it
        among 0.005, 0.01, 0.05 and 0.1 by the held-out log loss of the Monte
        Carlo probabilities (:ref:`auto`); ``"concrete"`` learns each layer's
        rate with the weights (:ref:`concrete`). The rates are in
        ``dropout_``. Ignored if ``module`` is given.

    activation : {"relu", "tanh", "logistic", "identity", "gelu", "elu"}, \
            default="relu"
        Activation of the hidden layers of the default network.

    n_passes : int, default=100
        Number T of stochastic forward passes in :meth:`predict_proba`; with
        ``n_members > 1``, T passes of each member.

    n_members : int or "auto", default="auto"
        Number M of MC dropout networks in an ensemble, each with its own
        initial weights and batch order, trained at once as one batched
        network; the probabilities average the softmax of all M x T passes.
        A custom ``module`` must then be a chain. See :ref:`ensembles`.
        "auto" is 5 where ``max_epochs="auto"`` trains on at most 5,000
        rows (about 5,550 given to fit), and 1 otherwise, with a custom
        ``module`` or learned rates (:ref:`auto`); the number is in
        ``n_members_``.

    weight_decay : float, default=1e-4
        L2 penalty on the weights (not the biases), the ``weight_decay`` of
        :class:`torch.optim.Adam`. With ``ConcreteDropout`` layers it is
        added to the Concrete objective's prior term; 0 adds nothing.

    length_scale : float, default=1e-2
        Prior length-scale of the weights in the Concrete dropout objective,
        used only with ``ConcreteDropout`` layers.

    lr : float or "auto", default=1e-3
        Learning rate of the Adam optimiser. "auto" is 1e-3: the
        regressor's "auto", a larger rate annealed on small data, lost to it
        here (:ref:`auto`).

    lr_schedule : {"constant", "cosine", "auto"}, default="constant"
        ``"constant"`` keeps ``lr``; ``"cosine"`` anneals it towards 0,
        lr (1 + cos(pi e / max_epochs)) / 2 at epoch e (from 0). Each
        epoch's rate is in ``net_.history[:, "lr"]``. "auto" is
        ``"constant"``.

    max_epochs : int or "auto", default="auto"
        Number of passes over the training data. "auto" trains each
        candidate on the held-out split for up to about 20,000 optimiser
        steps (20 to 2,000 epochs), stopping once its held-out loss has not
        improved for a tenth of that, and trains the chosen network on all
        rows for its best number of epochs, in ``n_iter_`` (:ref:`auto`).

    batch_size : int, default=64
        Mini-batch size.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs),
        used as given (:func:`~sklearn.base.clone` copies them); after
        :meth:`fit` they are in ``net_.callbacks_``. Scoring callbacks see
        ``"train_loss"``, and with ``early_stopping=True`` ``"valid_loss"``,
        the loss on the held-out rows.

    validation_fraction : float, default=0.1
        Fraction of the training rows held out (at least one) for what
        :meth:`fit` chooses ("auto") and for ``early_stopping``, the same
        rows for both. On a few hundred rows a larger fraction (0.3) makes
        the choice less noisy (:ref:`auto`).

    early_stopping : bool, default=False
        Whether to stop, as MLPClassifier does, once the held-out
        cross-entropy (dropout off) has not fallen below its best minus
        ``tol`` for more than ``n_iter_no_change`` consecutive epochs,
        keeping the best epoch's weights. Not available in :meth:`partial_fit`.

    n_iter_no_change : int, default=10
        Maximum number of epochs without an improvement of ``tol``, with
        ``early_stopping=True``.

    tol : float, default=1e-4
        The improvement of the held-out cross-entropy (nats) that counts,
        with ``early_stopping=True``.

    warm_start : bool, default=False
        If True and fitted, :meth:`fit` trains the fitted network for
        ``max_epochs`` more epochs; ``y`` may only hold classes of
        ``classes_``, and parameters that would build another network
        (layers, widths, activation, dropout rates, number of members) are
        refused. If False, :meth:`fit` starts from a new network.

    device : str or torch.device, default="cpu"
        Device of training and prediction, e.g. "cpu" or "cuda".

    pass_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the prediction passes, as in :class:`MCDropoutRegressor`;
        the softmax and the averages are always computed in float64.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, training dropout, batch order and the
        prediction masks. Torch's global random state is left as it was, and
        so is NumPy's unless None (which draws the seeds from it). Pass an
        int for reproducible fits.

    verbose : int, default=0
        If positive, skorch prints the training loss after each epoch.

    module : torch.nn.Module instance or class, or list, default=None
        A custom network (a class is instantiated without arguments, an
        instance deep-copied) mapping (n, ``n_features_in_``) float32 tensors
        to logits of shape (n, n_classes), classes in the order of
        ``classes_``, with at least one :class:`torch.nn.Dropout` layer. None
        builds the default MLP. With ``n_members > 1``, a chain of Linear,
        elementwise activation and Dropout layers or a list of the members'
        networks; other modules are refused (see :class:`MCDropoutRegressor`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.

    net_ : skorch.NeuralNetClassifier
        The fitted skorch net, with the trained network ``module_`` and the
        training ``history``.

    weight_decay_ : float
        The weight decay used in training.

    n_iter_ : int
        Number of epochs trained, over all calls of a warm start or of
        :meth:`partial_fit`.

    loss_curve_ : list of float
        The mean training cross-entropy of each epoch (weighted by
        ``sample_weight``; the sum of the members' with ``n_members > 1``).

    best_loss_ : float or None
        The lowest of ``loss_curve_``; None with ``early_stopping=True``.

    validation_scores_ : list of float or None
        With ``early_stopping=True``, minus the held-out cross-entropy of
        each epoch (the members' mean with ``n_members > 1``); else None.

    best_validation_score_ : float or None
        The best of ``validation_scores_`` in the last fit, that of the
        weights kept; None without early stopping.

    dropout_ : ndarray of shape (n_dropout_layers,) or \
            (n_members, n_dropout_layers)
        The rate of each dropout layer (learned for ``ConcreteDropout``
        layers), in registration order, one row per member with
        ``n_members > 1``; the prediction passes draw their masks with these
        rates.

    n_members_ : int
        The number of members of the fitted network: ``n_members``, or what
        "auto" resolved to.

    candidate_scores_ : dict of ndarray
        Set when :meth:`fit` chose on held-out rows (:ref:`auto`): one entry
        per candidate in ``"dropout"``, ``"noise"`` (None), ``"n_epochs"``
        and ``"held_out_log_likelihood"`` (minus the mean held-out log loss;
        the best is chosen).

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
    >>> u = clf[-1].predict_uncertainty(clf[:-1].transform(X[:2]))
    >>> u.mutual_information.shape
    (2,)

    One more epoch on new rows, as in an active-learning loop:

    >>> clf[-1].partial_fit(clf[:-1].transform(X[:10]), y[:10]).n_iter_
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
        dropout="auto",
        activation="relu",
        n_passes=100,
        n_members="auto",
        weight_decay=1e-4,
        length_scale=1e-2,
        lr=1e-3,
        lr_schedule="constant",
        max_epochs="auto",
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
        return y_encoded

    def _n_network_outputs(self):
        return len(self.classes_)

    def _outputs_per_target(self, noise):
        return len(self.classes_)

    def _n_targets(self):
        return 1

    def _member_criterion(self, noise, outputs_per_target):
        return nn.CrossEntropyLoss, {}

    def _score_candidates(self, runner, masks, held_out, candidates):
        """Each candidate's held-out log-likelihood: the mean log of the Monte
        Carlo probability of each row's class (minus the log loss), weighted."""
        X, y, w = held_out
        proba = _mc_group_proba(runner, masks, X, len(candidates))
        y = y.cpu().numpy()
        p_true = proba[np.arange(len(y)), :, y]
        log_p = np.log(np.clip(p_true, np.finfo(np.float64).tiny, None))
        return [(float(s), {}) for s in np.average(log_p, axis=0, weights=w)]

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
