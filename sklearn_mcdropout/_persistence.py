"""What a saved estimator holds, for pickle, joblib and skops alike.

``__getstate__`` returns the parameters, the fitted values and, once fitted,
``_net_state``: the network's weights as NumPy arrays (by ``state_dict`` key)
and the training history as a JSON string. There are no torch or skorch
objects in it: ``__setstate__`` rebuilds the network from the estimator's
own parameters, loads the weights into it (refusing weights whose names or
shapes do not fit), wraps it in a new skorch net and redraws the prediction
masks from the fitted seed. So pickle and skops save the same state, and a
model fitted on a GPU loads where there is none.

A few values have no such form: a custom ``module`` given as an instance,
user ``callbacks`` (and the fitted net's ``callbacks_`` holding them), and a
history holding values that are not JSON. They travel in a
:class:`_PickleOnly`, which pickle saves and skops refuses at dump, saying
why and what to do.
"""

import json
import warnings

import numpy as np
import torch
from skorch.history import History
from torch import nn

from ._version import __version__

_VERSION_KEY = "_sklearn_mcdropout_version"
_NET_KEY = "_net_state"
_TORCH_DEVICE_KEY = "_device_is_torch_device"


class _PickleOnly:
    """A value that pickle, joblib and ``copy`` save, and skops refuses.

    skops saves an object through ``__reduce__`` or ``__getstate__``: both
    raise ``TypeError(reason)``, at ``skops.io.dump``, before anything is
    written. pickle and ``copy`` call ``__reduce_ex__``, which keeps the value.
    """

    def __init__(self, value, reason):
        self.value = value
        self.reason = reason

    def __reduce_ex__(self, protocol):
        return type(self), (self.value, self.reason)

    def __reduce__(self):
        raise TypeError(self.reason)

    def __getstate__(self):
        raise TypeError(self.reason)


def _saved_state(est, state):
    """The state of ``est`` to save, from ``BaseEstimator.__getstate__``'s."""
    state = dict(state)
    name = type(est).__name__
    if isinstance(state.get("device"), torch.device):
        state["device"], state[_TORCH_DEVICE_KEY] = str(state["device"]), True
    module = state.get("module")
    if isinstance(module, nn.Module | list):
        state["module"] = _PickleOnly(module, _module_reason(est))
    if state.get("callbacks") is not None:
        state["callbacks"] = _PickleOnly(state["callbacks"], _callbacks_reason(name))
    if "net_" in state:
        state.pop("net_"), state.pop("_masks", None)
        state[_NET_KEY] = _net_state(est)
    state[_VERSION_KEY] = __version__
    return state


def _loaded_state(est, state):
    """The attributes of a saved state and its ``_net_state`` (None if unfitted).

    Warns when the state was saved by another version of the package.
    """
    state = dict(state)
    version = state.pop(_VERSION_KEY, None)
    if version is not None and version != __version__:
        warnings.warn(
            f"Trying to unpickle {type(est).__name__} from sklearn-mcdropout "
            f"{version} when using version {__version__}. This might lead "
            "to breaking code or invalid results. Use at your own risk.",
            UserWarning,
            stacklevel=3,
        )
    state.setdefault("n_members", 1)  # saved before ensembles existed
    if "_y_train_std" in state:  # the regressor's target scale, renamed in 0.1
        state["_y_scale"] = state.pop("_y_train_std")
    if state.pop(_TORCH_DEVICE_KEY, False):
        state["device"] = torch.device(state["device"])
    for key in ("module", "callbacks"):
        if key in state:
            state[key] = _unwrap(state[key])
    return state, state.pop(_NET_KEY, None)


def _net_state(est):
    """The fitted net as weights (NumPy arrays), history and user callbacks.

    ``callbacks_`` is None without user ``callbacks``: the net's own
    callbacks are rebuilt at load.
    """
    net = est.net_
    weights = {
        key: tensor.detach().cpu().numpy().copy()
        for key, tensor in net.module_.state_dict().items()
    }
    callbacks_ = None
    if est.callbacks is not None:
        callbacks_ = _PickleOnly(net.callbacks_, _callbacks_reason(type(est).__name__))
    return {
        "weights": weights,
        "history": _history_state(net.history, type(est).__name__),
        "callbacks_": callbacks_,
    }


def _restore_net(est, net_state):
    """Rebuild ``net_`` and the masks of ``est`` from its parameters and state.

    The network is built from the parameters, as at fit (the global torch
    random state is left as it was), and the saved weights are loaded into
    it; a CUDA or MPS device that is not available becomes the CPU, with a
    warning.
    """
    est._validate_params()
    device = _load_device(est)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        module = est._build_module(est.n_features_in_, est._n_network_outputs(), device)
    _load_weights(module, net_state["weights"], type(est).__name__)
    net = est._build_net(module, device, 0)
    callbacks_ = _unwrap(net_state["callbacks_"])
    if callbacks_ is None:
        net.initialize()
    else:  # skorch's initialize would reset the trained callbacks
        callbacks, net.callbacks = net.callbacks, "disable"
        net.initialize()
        net.callbacks, net.callbacks_ = callbacks, callbacks_
    history = _unwrap(net_state["history"])
    net.history = History(json.loads(history) if isinstance(history, str) else history)
    est.net_ = net
    est._set_prediction_masks()


def _load_weights(module, weights, name):
    """Copy the saved ``weights`` into ``module``, refusing any that do not fit."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(weights))
    unknown = sorted(set(weights) - set(expected))
    if missing or unknown:
        raise ValueError(
            f"Cannot load {name}: the file's weights do not match the "
            f"architecture of its parameters (missing {missing}, unknown "
            f"{unknown})."
        )
    with torch.no_grad():
        for key, tensor in expected.items():
            array = _check_weight(key, weights[key], tensor, name)
            tensor.copy_(torch.from_numpy(np.array(array, copy=True)))


def _check_weight(key, array, tensor, name):
    """``array`` if it is an array of the shape and dtype of ``tensor``."""
    layer, _, kind = key.rpartition(".")
    what = f"{kind} of layer {layer!r}" if layer else repr(kind)
    dtype = torch.empty((), dtype=tensor.dtype).numpy().dtype
    if not isinstance(array, np.ndarray):
        problem = f"is a {type(array).__name__} in the file, not an array"
    elif array.shape != tuple(tensor.shape):
        problem = (
            f"has shape {array.shape} in the file, the architecture needs "
            f"{tuple(tensor.shape)}"
        )
    elif array.dtype != dtype:
        problem = f"has dtype {array.dtype} in the file, the architecture needs {dtype}"
    else:
        return array
    raise ValueError(f"Cannot load {name}: {what} {problem}.")


def _load_device(est):
    """The device of ``est``, or the CPU (with a warning) if it is not here."""
    device = torch.device(est.device)
    available = {
        "cuda": torch.cuda.is_available,
        "mps": torch.backends.mps.is_available,
    }.get(device.type, lambda: True)
    if available():
        return device
    warnings.warn(
        f"{type(est).__name__} was fitted with device={str(device)!r}, which is "
        "not available on this machine; its network is loaded on the CPU and "
        "predicts there. Call set_params(device='cpu') before fitting it again.",
        UserWarning,
        stacklevel=4,
    )
    return torch.device("cpu")


def _history_state(history, name):
    """The training history as a JSON string (a pickle-only list if not JSON)."""
    try:
        return json.dumps(list(history))
    except (TypeError, ValueError):
        return _PickleOnly(
            list(history),
            f"skops cannot save the training history of {name}: it holds values "
            "that JSON cannot hold, such as NumPy scalars (recorded by a callback). "
            "Save the model with pickle or joblib, or fit it without that callback.",
        )


def _unwrap(value):
    return value.value if isinstance(value, _PickleOnly) else value


def _module_reason(est):
    if isinstance(est.module, list):
        return (
            f"skops cannot save the module parameter of {type(est).__name__}: "
            "it is a list of torch.nn.Module instances (the members' "
            "networks), which cannot be rebuilt without running code from the "
            "file. Save the model with pickle or joblib."
        )
    cls = type(est.module)
    return (
        f"skops cannot save the module parameter of {type(est).__name__}: it is "
        f"a torch.nn.Module instance ({cls.__module__}.{cls.__qualname__}), "
        "which cannot be rebuilt without running code from the file. Pass the "
        "class instead (module=" + cls.__qualname__ + ", built without "
        "arguments): skops saves it by name, and loading needs the class "
        "importable and listed in trusted. Or save the model with pickle or "
        "joblib, which run the file's code."
    )


def _callbacks_reason(name):
    return (
        f"skops cannot save the callbacks parameter of {name}: it holds skorch "
        "callbacks, training-time objects whose types skops does not trust. "
        "Call set_params(callbacks=None) before skops.io.dump (the fitted "
        "network and its history are kept), or save the model with pickle or "
        "joblib."
    )
