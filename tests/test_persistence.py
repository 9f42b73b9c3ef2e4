"""Saving and loading fitted models: skops, pickle and joblib from one state."""

import copy
import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from skorch.history import History

from conftest import BatchNormNet, sine_data
from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor, __version__
from sklearn_mcdropout._training import _ClassifierNet, _RegressorNet

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

REGRESSOR = "sklearn_mcdropout._regressor.MCDropoutRegressor"
CLASSIFIER = "sklearn_mcdropout._classifier.MCDropoutClassifier"
BFLOAT16_FALLBACK = "ignore:pass_dtype='bfloat16' is not fast"


X, Y = sine_data(80)
LABELS = np.where(Y > 0.3, "high", np.where(Y < -0.3, "low", "mid"))


def _reg(**params):
    kw = dict(hidden_layer_sizes=(16, 16), max_epochs=5, n_passes=20, random_state=0)
    return MCDropoutRegressor(**{**kw, **params})


def _clf(**params):
    kw = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=20, random_state=0)
    return MCDropoutClassifier(**{**kw, **params})


class _CountEpochs(Callback):
    """A user callback with fitted state, reset by ``initialize`` as skorch's are."""

    def initialize(self):
        self.n_epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.n_epochs_ += 1


class _RecordFloat32(Callback):
    """Records a value that is not JSON (a NumPy float32) in the history."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("norm", np.float32(1.5))


class _Trap:
    """A type a doctored file names; records any construction."""

    constructed = []  # noqa: RUF012

    def __new__(cls, *args, **kwargs):
        cls.constructed.append("new")
        return super().__new__(cls)


VARIANTS = {
    "homoscedastic": (lambda: _reg(), Y),
    "numeric tau, weight_decay auto": (lambda: _reg(tau=4.0, weight_decay="auto"), Y),
    "heteroscedastic": (lambda: _reg(noise="heteroscedastic"), Y),
    "pass_dtype bfloat16": (lambda: _reg(pass_dtype="bfloat16"), Y),
    "lr_schedule cosine": (lambda: _reg(lr_schedule="cosine"), Y),
    "torch.device": (lambda: _reg(device=torch.device("cpu")), Y),
    "RandomState": (lambda: _reg(random_state=np.random.RandomState(0)), Y),
    "concrete": (lambda: _reg(dropout="concrete"), Y),
    "concrete heteroscedastic": (
        lambda: _reg(dropout="concrete", noise="heteroscedastic"),
        Y,
    ),
    "classifier": (lambda: _clf(), LABELS),
    "classifier concrete": (lambda: _clf(dropout="concrete"), LABELS),
    "3 members": (lambda: _reg(n_members=3), Y),
    "3 members heteroscedastic": (
        lambda: _reg(n_members=3, noise="heteroscedastic"),
        Y,
    ),
    "3 members classifier": (lambda: _clf(n_members=3), LABELS),
    "classifier cosine": (lambda: _clf(lr_schedule="cosine", dropout=0.3), Y > 0),
    "pipeline": (lambda: make_pipeline(StandardScaler(), _reg()), Y),
    "pipeline heteroscedastic": (
        lambda: make_pipeline(StandardScaler(), _reg(noise="heteroscedastic")),
        Y,
    ),
    "pipeline classifier": (lambda: make_pipeline(StandardScaler(), _clf()), LABELS),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def fitted(request):
    make, y = VARIANTS[request.param]
    return make().fit(X, y), X, y


def _final(model):
    return model[-1] if hasattr(model, "steps") else model


def _outputs(model):
    """Everything the model predicts, from every predict method."""
    est = _final(model)
    Xt = model[:-1].transform(X) if hasattr(model, "steps") else X
    if isinstance(est, MCDropoutClassifier):
        return [
            model.predict_proba(X),
            model.predict(X),
            *est.predict_uncertainty(Xt).values(),
            est.predict_proba_passes(Xt[:5]),
        ]
    return [
        *model.predict(X, return_std=True),
        *model.predict(X[:6], return_cov=True),
        *est.predict_uncertainty(Xt).values(),
        est.predict_passes(Xt[:5]),
        est.sample_y(Xt[:5], n_samples=3, random_state=1),
    ]


def _round_trips(model, tmp_path, ways=("skops", "pickle", "joblib", "deepcopy")):
    """The model through skops, pickle, joblib and deepcopy, by way."""
    path = tmp_path / "model"
    trusted = [
        CLASSIFIER if isinstance(_final(model), MCDropoutClassifier) else REGRESSOR
    ]
    loaders = {
        "skops": lambda: (sio.dump(model, path), sio.load(path, trusted=trusted))[1],
        "pickle": lambda: pickle.loads(pickle.dumps(model)),
        "joblib": lambda: (joblib.dump(model, path), joblib.load(path))[1],
        "deepcopy": lambda: copy.deepcopy(model),
    }
    return {way: loaders[way]() for way in ways}


def _assert_same_params(a, b):
    params_a, params_b = a.get_params(deep=False), b.get_params(deep=False)
    for params in (params_a, params_b):
        if isinstance(params["random_state"], np.random.RandomState):
            params["random_state"] = params["random_state"].get_state()
    np.testing.assert_equal(params_b, params_a)


def _fitted_values(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and k != "net_"}


@pytest.mark.filterwarnings(BFLOAT16_FALLBACK)
def test_round_trips_predict_identically(fitted, tmp_path):
    model, _, _ = fitted
    expected = _outputs(model)
    est = _final(model)
    for how, restored in _round_trips(model, tmp_path).items():
        for got, want in zip(_outputs(restored), expected, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=how)
        loaded = _final(restored)
        assert type(loaded) is type(est)
        _assert_same_params(loaded, est)
        np.testing.assert_equal(_fitted_values(loaded), _fitted_values(est))
        assert loaded._mask_seed == est._mask_seed
        assert isinstance(loaded.net_.history, History)
        assert list(loaded.net_.history) == list(est.net_.history), how


@pytest.mark.parametrize(
    ("model", "y", "trusted"),
    [
        (_reg(), Y, [REGRESSOR]),
        (_reg(noise="heteroscedastic", lr_schedule="cosine"), Y, [REGRESSOR]),
        (make_pipeline(StandardScaler(), _clf()), LABELS, [CLASSIFIER]),
        (_reg(), None, [REGRESSOR]),
    ],
    ids=["regressor", "heteroscedastic cosine", "pipeline classifier", "unfitted"],
)
def test_skops_asks_to_trust_only_the_package_types(model, y, trusted):
    if y is not None:
        model.fit(X, y)
    assert sio.get_untrusted_types(data=sio.dumps(model)) == trusted


def test_saved_state_holds_no_torch_or_skorch_object():
    est = _reg(lr_schedule="cosine").fit(X, Y)

    def leaves(value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from leaves(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from leaves(item)
        else:
            yield value

    state = est.__getstate__()
    assert "net_" not in state
    assert {type(leaf).__module__.split(".")[0] for leaf in leaves(state)} <= {
        "builtins",
        "numpy",
    }
    assert "_sklearn_mcdropout_version" not in vars(est)


def test_loaded_net_is_a_working_skorch_net_and_leaves_torch_rng_alone():
    est = _reg(noise="heteroscedastic").fit(X, Y)
    clf = _clf().fit(X, LABELS)
    rng_before = torch.get_rng_state()
    data = sio.dumps(est), sio.dumps(clf)
    loaded = sio.loads(data[0], trusted=[REGRESSOR])
    loaded_clf = sio.loads(data[1], trusted=[CLASSIFIER])
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert type(loaded.net_) is _RegressorNet
    assert type(loaded_clf.net_) is _ClassifierNet
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(loaded.net_.predict(X32), est.net_.predict(X32))
    np.testing.assert_array_equal(
        loaded_clf.net_.predict_proba(X32), clf.net_.predict_proba(X32)
    )
    np.testing.assert_array_equal(
        loaded.net_.history[:, "train_loss"], est.net_.history[:, "train_loss"]
    )
    loaded.set_params(max_epochs=2).fit(X, Y)  # fits again, from scratch
    assert len(loaded.net_.history) == 2


def _doctor(path, edit_schema=None, files=None):
    """Rewrite the skops file ``path``: its schema by ``edit_schema``, its files."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    if edit_schema is not None:
        edit_schema(schema["content"]["content"])
    members["schema.json"] = json.dumps(schema).encode()
    members.update(files or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def regressor():
    return _reg().fit(X, Y)


@pytest.mark.parametrize(
    "node",
    [
        {
            "__class__": "_Trap",
            "__module__": _Trap.__module__,
            "__loader__": "ObjectNode",
        },
        {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
    ],
    ids=["object", "function"],
)
def test_file_naming_an_untrusted_type_is_refused_before_construction(
    regressor, tmp_path, monkeypatch, node
):
    path = tmp_path / "model.skops"
    sio.dump(regressor, path)

    def plant(attrs):
        attrs["_net_state"]["content"]["history"] = {**node, "__id__": 1}

    _doctor(path, plant)
    loads = []
    monkeypatch.setattr(
        MCDropoutRegressor, "__setstate__", lambda self, state: loads.append(state)
    )
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == sorted([REGRESSOR, f"{node['__module__']}.{node['__class__']}"])
    with pytest.raises(UntrustedTypesFoundException, match=node["__class__"]):
        sio.load(path, trusted=[REGRESSOR])
    assert loads == []
    assert _Trap.constructed == []


def _weight_node(attrs, key):
    return attrs["_net_state"]["content"]["weights"]["content"][key]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "shape",
            r"weight of layer '3' has shape \(15, 16\) in the file, the "
            r"architecture needs \(16, 16\)",
        ),
        ("dtype", "bias of layer '3' has dtype float64 in the file, the archi"),
        (
            "architecture",
            r"weight of layer '3' has shape \(16, 16\) in the file, the "
            r"architecture needs \(8, 16\)",
        ),
        ("missing", r"the file's weights do not match .* \(missing \['6.bias'\], unk"),
    ],
)
def test_weights_that_do_not_fit_the_architecture_are_refused(
    regressor, tmp_path, change, message
):
    path = tmp_path / "model.skops"
    sio.dump(regressor, path)
    files = {}

    def edit(attrs):
        if change == "shape":
            files[_weight_node(attrs, "3.weight")["file"]] = _npy(
                np.zeros((15, 16), np.float32)
            )
        elif change == "dtype":
            files[_weight_node(attrs, "3.bias")["file"]] = _npy(np.zeros(16))
        elif change == "architecture":
            # skops loads nodes of one __id__ once: a new value needs its own.
            attrs["hidden_layer_sizes"]["content"][1].update(content="8", __id__=2)
        else:
            del attrs["_net_state"]["content"]["weights"]["content"]["6.bias"]
            del attrs["_net_state"]["content"]["weights"]["key_types"]["content"][0]

    _doctor(path, edit, files)
    with pytest.raises(ValueError, match=f"Cannot load MCDropoutRegressor: {message}"):
        sio.load(path, trusted=[REGRESSOR])


def test_pickled_weights_that_do_not_fit_are_refused_naming_the_layer(regressor):
    state = regressor.__getstate__()
    state["_net_state"]["weights"]["0.weight"] = np.zeros((16, 4), np.float32)
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    with pytest.raises(ValueError, match=r"weight of layer '0' has shape \(16, 4\)"):
        blank.__setstate__(state)


def test_file_of_another_version_warns_in_both_paths(regressor, tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(regressor, path)

    def age(attrs):
        attrs["_sklearn_mcdropout_version"]["content"] = json.dumps("0.0.0-old")

    _doctor(path, age)
    expected = regressor.predict(X[:5])
    message = (
        f"Trying to unpickle MCDropoutRegressor from sklearn-mcdropout 0.0.0-old "
        f"when using version {__version__}"
    )
    with pytest.warns(UserWarning, match=message):
        loaded = sio.load(path, trusted=[REGRESSOR])
    np.testing.assert_array_equal(loaded.predict(X[:5]), expected)
    state = regressor.__getstate__()
    state["_sklearn_mcdropout_version"] = "0.0.0-old"
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    with pytest.warns(UserWarning, match=message):
        blank.__setstate__(state)
    np.testing.assert_array_equal(blank.predict(X[:5]), expected)


def test_model_of_a_cuda_device_loads_on_a_machine_without_one(monkeypatch):
    est = _reg(noise="heteroscedastic").fit(X, Y)
    expected = est.predict(X, return_std=True)
    est.device = "cuda"  # the state of a model fitted with device="cuda"
    saved = {"skops": sio.dumps(est), "pickle": pickle.dumps(est)}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaders = {
        "skops": lambda data: sio.loads(data, trusted=[REGRESSOR]),
        "pickle": pickle.loads,
    }
    for how, data in saved.items():
        with pytest.warns(UserWarning, match="device='cuda', which is not available"):
            loaded = loaders[how](data)
        assert loaded.device == "cuda"
        assert next(loaded.net_.module_.parameters()).device.type == "cpu"
        for got, want in zip(loaded.predict(X, return_std=True), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        with pytest.raises(ValueError, match="CUDA is not available"):
            loaded.fit(X, Y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_fitted_on_a_gpu_predicts_the_same_on_the_cpu(monkeypatch):
    est = _reg(device="cuda").fit(X, Y)
    expected = est.predict(X, return_std=True)
    saved = {"skops": sio.dumps(est), "pickle": pickle.dumps(est)}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = [
        sio.loads(saved["skops"], trusted=[REGRESSOR]),
        pickle.loads(saved["pickle"]),
    ]
    for model in loaded:
        for got, want in zip(model.predict(X, return_std=True), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_custom_module_instance_is_refused_by_skops_and_kept_by_pickle(tmp_path):
    est = _reg(module=BatchNormNet()).fit(X, Y)
    with pytest.raises(TypeError, match=r"module parameter .* Pass the class instead"):
        sio.dumps(est)
    with pytest.raises(TypeError, match="module parameter"):
        sio.dumps(_reg(module=BatchNormNet()))
    expected = est.predict(X, return_std=True)
    for loaded in _round_trips(
        est, tmp_path, ("pickle", "joblib", "deepcopy")
    ).values():
        for got, want in zip(loaded.predict(X, return_std=True), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        assert type(loaded.module) is BatchNormNet
        assert loaded.module is not est.module


def test_custom_module_class_is_saved_by_name_and_needs_trust():
    est = _reg(module=BatchNormNet).fit(X, Y)
    data = sio.dumps(est)
    net_type = f"{BatchNormNet.__module__}.BatchNormNet"
    assert sio.get_untrusted_types(data=data) == sorted([net_type, REGRESSOR])
    with pytest.raises(UntrustedTypesFoundException, match="BatchNormNet"):
        sio.loads(data, trusted=[REGRESSOR])
    loaded = sio.loads(data, trusted=[REGRESSOR, net_type])
    assert loaded.module is BatchNormNet
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    buffers = dict(loaded.net_.module_.named_buffers())
    for name, buffer in est.net_.module_.named_buffers():
        assert torch.equal(buffers[name], buffer)  # BatchNorm's running statistics


def test_callbacks_are_refused_by_skops_and_kept_by_pickle():
    counter = _CountEpochs()
    est = _reg(callbacks=[counter], lr_schedule="cosine").fit(X, Y)
    assert counter.n_epochs_ == 5
    loaded = pickle.loads(pickle.dumps(est))
    (restored,) = loaded.callbacks
    assert restored.n_epochs_ == 5  # not reset by skorch's initialize
    assert any(cb is restored for _, cb in loaded.net_.callbacks_)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    with pytest.raises(TypeError, match=r"callbacks parameter .* set_params\(callb"):
        sio.dumps(est)
    est.set_params(callbacks=None)
    loaded = sio.loads(sio.dumps(est), trusted=[REGRESSOR])
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.net_.history[:, "lr"] == est.net_.history[:, "lr"]


def test_history_that_is_not_json_is_refused_by_skops_and_kept_by_pickle():
    est = _reg(callbacks=[_RecordFloat32()]).fit(X, Y).set_params(callbacks=None)
    with pytest.raises(TypeError, match="training history of MCDropoutRegressor"):
        sio.dumps(est)
    loaded = pickle.loads(pickle.dumps(est))
    assert type(loaded.net_.history[-1, "norm"]) is np.float32


def test_unfitted_estimators_round_trip():
    for est in (_reg(device=torch.device("cpu")), _clf(callbacks=None)):
        loaded = sio.loads(sio.dumps(est), trusted=[REGRESSOR, CLASSIFIER])
        _assert_same_params(loaded, est)
        assert not hasattr(loaded, "net_")
        assert vars(pickle.loads(pickle.dumps(est))).keys() == vars(est).keys()


def test_pickle_of_the_previous_format_still_loads(regressor):
    # Until 0.1.0 the pickled state held the skorch net and the masks.
    state = dict(vars(regressor), _sklearn_mcdropout_version=__version__)
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    blank.__setstate__(state)
    assert blank.net_ is regressor.net_
    np.testing.assert_array_equal(blank.predict(X), regressor.predict(X))


def test_state_saved_before_the_target_scale_was_renamed_still_loads(regressor):
    # Until the noise models got their module, _y_scale was _y_train_std.
    state = regressor.__getstate__()
    state["_y_train_std"] = state.pop("_y_scale")
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    blank.__setstate__(state)
    np.testing.assert_array_equal(blank.predict(X), regressor.predict(X))
