"""Gradients you can see: how far back the error of a recurrent model's forecast reaches.

Backpropagation through time multiplies the error by one Jacobian ``ds_t / ds_{t-1}`` per
step back. In an Elman network that Jacobian is ``diag(f'(a_t)) W_hh``, whose norm is at
most ``max |f'| * ||W_hh||``: when that is below 1 the gradient shrinks geometrically with
distance (it *vanishes*), so the weights learn little from what happened many steps
before the forecast. The LSTM's cell state is carried by an additive path, scaled by the
forget gate only, so its gradient can reach much further.

:func:`analyze` shows it on real data. For each model it takes training windows of the
panel (scaled and normalised as training sees them), and measures, at every step of the
window, the norm of the gradient of the forecast's loss with respect to

- the state ``s_t`` of the first recurrent layer after step ``t`` (``h_t``; ``(h_t, c_t)``
  for an LSTM; the fed-back output ``y_t`` for Jordan), and
- the input ``x_t``,

averaged over the windows: once for the network as initialised (with ``--seed``: the same
initial weights as the one trained) and once after training it with the given settings.
``lag`` 1 is the last step of the window (next to the forecast), ``lag = lookback`` the
first. It also reports the spectral radius (largest absolute eigenvalue) of the recurrent
matrices of that layer: ``W_hh`` (Elman), each gate's recurrent block (LSTM ``i, f, c,
o``; GRU ``z, r, h``), and for Jordan the loop ``y -> h -> y``, ``W_hy W_yh``.

The gradient of a state is taken by adding a zero perturbation ``delta_t`` to it and
differentiating with respect to ``delta_t`` (the loss is the same function of the state,
so ``dL/d delta_t = dL/ds_t``), which needs the backend's autodiff: ``jax.grad`` or
TensorFlow's ``GradientTape``.
"""

from __future__ import annotations

import numpy as np

from forecaster import models, scaling, training
from forecaster.errors import ConfigError, DataError
from forecaster.windows import windows as cut_windows

#: The models with a recurrent state to differentiate.
RECURRENT: tuple[str, ...] = ("simple_rnn", "jordan", "lstm", "gru")
#: Gate blocks of the recurrent kernels, in Keras's order.
_BLOCKS = {"LSTMCell": ("U_i", "U_f", "U_c", "U_o"), "GRUCell": ("U_z", "U_r", "U_h"),
           "SimpleRNNCell": ("W_hh",)}


def analyze(panel, model: str = "simple_rnn", *, max_windows: int = 256, **settings) -> dict:
    """Fit ``model`` on ``panel`` and measure its gradients per lookback step, before and after.

    Args:
        panel: The data (see :func:`forecaster.data.read_csv`).
        model: A recurrent model: simple_rnn, jordan, lstm or gru.
        max_windows: At most this many training windows, evenly spread, are averaged over.
        **settings: :class:`~forecaster.forecaster.Forecaster` settings (``lookback``,
            ``horizon``, ``epochs``, ``params``, ``seed``, ...).

    Returns:
        Plain data: ``model, n_params, seed`` (the one drawn for ``seed=-1``), ``lookback,
        horizon, windows, loss, epochs_run, lag`` (1 .. lookback), and each as ``{"before": ..., "after": ...}``: ``state``
        and ``input`` (the mean gradient norm at each lag), ``spectral_radius``
        (``{matrix: value}``), ``decay`` (the state gradient at the largest lag divided
        by that at lag 1) and ``half_life`` (steps back over which the state gradient
        halves, from a log-linear fit over all lags; None if it does not shrink).

    Raises:
        ConfigError: ``model`` is not recurrent, or is stateful.
    """
    from forecaster.forecaster import Forecaster

    f = Forecaster(check_recurrent(model), **settings)
    if (f.seeds or 1) > 1:
        raise ConfigError("forecaster gradients measures one network; leave out --seeds.")
    # -1: one random seed for both networks; one fit, not the median of several seeds that
    # a neural model is by default on small data
    f.set_params(seed=training.resolve_seed(f.seed), seeds=1)
    config = models.make_config(model, f.params)
    if config.stateful:
        raise ConfigError("forecaster gradients measures training on windows; leave out "
                          "--param stateful=true.")
    f.resolve(panel)
    if f.calendar_ or panel.future_covariates:
        raise ConfigError("forecaster gradients measures the observed window; leave out "
                          "--calendar and --future-covariates.")
    x, y = _windows(panel, f, max_windows)
    training.seed_everything(f.seed)  # the same initial weights as the fit below
    initial = models.module(model).build(config, lookback=f.lookback_, n_features=panel.n_features,
                                         horizon=f.horizon_)
    before = measure(initial, x, y, f.loss)
    f.fit(panel)
    after = measure(f.model_, x, y, f.loss)
    return {"model": model, "n_params": f.n_params_, "seed": f.seed, "lookback": f.lookback_,
            "horizon": f.horizon_, "windows": len(x), "loss": f.loss,
            "epochs_run": f.history_["epochs_run"], "lag": list(range(1, f.lookback_ + 1)),
            **{key: {"before": before[key], "after": after[key]}
               for key in ("state", "input", "spectral_radius", "decay", "half_life")}}


def analyze_all(panel, specs: list[str], **settings) -> dict:
    """:func:`analyze` for each model spec, all checked first: ``{"models": [...]}``.

    A spec is a model name, optionally with its own parameters on top of
    ``settings["params"]``: ``"simple_rnn:activation=sigmoid:units=16"``. Each result
    carries its spec as ``label``.
    """
    parsed = [parse_spec(spec, settings.get("params")) for spec in specs]
    return {"models": [{"label": spec, **analyze(panel, name, **{**settings, "params": params})}
                       for spec, (name, params) in zip(specs, parsed)]}


def parse_spec(spec: str, params: dict | None = None) -> tuple[str, dict]:
    """``"NAME[:KEY=VALUE...]"`` -> (name, ``params`` updated with the spec's), validated.

    >>> parse_spec("simple_rnn:activation=sigmoid", {"units": "8"})
    ('simple_rnn', {'units': '8', 'activation': 'sigmoid'})
    """
    from forecaster.flags import parse_params

    name, *items = str(spec).split(":")
    merged = {**(params or {}), **(parse_params(items) or {})}
    models.make_config(check_recurrent(name), merged)  # a bad parameter fails before any fit
    return name, merged


def check_recurrent(name: str) -> str:
    """``name`` if it is a recurrent model, else a ConfigError naming them."""
    if name not in RECURRENT:
        close = [m for m in RECURRENT if m in str(name) or str(name) in m]
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"forecaster gradients needs a recurrent model, got '{name}'.{hint} "
                          f"Use one of: {', '.join(RECURRENT)}.")
    return name


def _windows(panel, f, max_windows: int) -> tuple[np.ndarray, np.ndarray]:
    """Training windows of every series, scaled and normalised as training sees them."""
    xs, ys = [], []
    for s, sp in zip(panel.series, f.splits_):
        values = scaling.fit(f.scaler, s.values[sp.train[0]:sp.train[1]]).transform(s.values)
        x, y = cut_windows(values, lookback=f.lookback_, horizon=f.horizon_, targets=sp.train)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32)
    if len(x) == 0:
        raise DataError(f"No training windows in {panel.source}: lower --lookback "
                        f"({f.lookback_}) or --horizon ({f.horizon_}).")
    keep = np.unique(np.linspace(0, len(x) - 1, min(max_windows, len(x))).astype(int))
    x, y = x[keep], y[keep]  # (windows, lookback, n_features), (windows, horizon): copies
    targets = scaling.normalize_batch(x, norm=f.norm, horizon=f.horizon_, season=f.season_)
    return x, (y - targets).astype(np.float32)


def measure(model, x: np.ndarray, y: np.ndarray, loss: str = "mse") -> dict:
    """Gradient norms per lag and spectral radii of a built recurrent model (see the module doc).

    Args:
        model: A model from a recurrent module's ``build`` (windows of fixed length).
        x: Windows ``(n, lookback, n_features)``; y: their targets ``(n, horizon)``.
        loss: The loss of the forecast: ``mse``, ``mae`` or ``huber``.

    Returns:
        ``{"state": [...], "input": [...], "spectral_radius": {...}, "decay": float,
        "half_life": float | None}``; the lists are ordered by lag (1 = the last step).
    """
    import keras

    first = next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))
    n, lookback = x.shape[:2]
    sizes = first.cell.state_size
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
    deltas = [np.zeros((n, lookback, d), np.float32) for d in sizes]  # (n, lookback, d) each
    loss_fn = keras.losses.get(loss)

    def total_loss(inputs, *perturbations):
        forecast = _forward(model, first, inputs, perturbations)
        return keras.ops.sum(loss_fn(y, forecast))  # a sum: each window's own gradient

    grads = _gradient(total_loss, x, *deltas)
    state = np.sqrt(sum(np.sum(g ** 2, axis=-1) for g in grads[1:]))  # (n, lookback)
    inputs = np.linalg.norm(grads[0], axis=-1)  # (n, lookback)
    by_lag = [state.mean(axis=0)[::-1], inputs.mean(axis=0)[::-1]]  # lag 1 first
    return {"state": by_lag[0].tolist(), "input": by_lag[1].tolist(),
            "spectral_radius": spectral_radii(first.cell),
            "decay": float(by_lag[0][-1] / by_lag[0][0]) if by_lag[0][0] > 0 else float("nan"),
            "half_life": half_life(by_lag[0])}


def half_life(norms) -> float | None:
    """Steps back over which ``norms`` (by lag, lag 1 first) halve, from a log-linear fit.

    >>> half_life([1.0, 0.5, 0.25, 0.125])
    1.0
    >>> half_life([1.0, 1.0, 1.0]) is None
    True
    """
    norms = np.asarray(norms, dtype=float)
    keep = norms > 0
    if keep.sum() < 2:
        return None
    slope = np.polyfit(np.flatnonzero(keep), np.log(norms[keep]), 1)[0]  # log-norm per lag
    return round(float(np.log(0.5) / slope), 6) if slope < -1e-12 else None


def _forward(model, first, x, perturbations):
    """The model's forecast with ``perturbations[j][:, t]`` added to state ``j`` after step ``t``."""
    from keras import ops

    states = first.cell.get_initial_state(batch_size=x.shape[0])
    states = list(states) if isinstance(states, (list, tuple)) else [states]
    outputs = []
    for t in range(x.shape[1]):
        _, states = first.cell(x[:, t], states, training=False)
        states = [s + d[:, t] for s, d in zip(states, perturbations)]
        outputs.append(states[0])  # every cell here outputs its first state (h_t, or y_t)
    h = ops.stack(outputs, axis=1) if first.return_sequences else outputs[-1]
    for layer in model.layers[model.layers.index(first) + 1:]:
        h = layer(h, training=False)
    return h[:, -1] if len(h.shape) == 3 else h  # the forecast: the last step's, if per step


def _gradient(fn, *args) -> list[np.ndarray]:
    """``d fn / d arg`` for every argument, with the active backend's autodiff."""
    import keras

    name = keras.backend.backend()
    if name == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(args))))(*args)]
    if name == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = fn(*tensors)
        return [g.numpy() for g in tape.gradient(value, tensors)]
    raise ConfigError(f"forecaster gradients runs on jax or tensorflow, not {name}; "
                      "pass --backend jax.")


def spectral_radii(cell) -> dict[str, float]:
    """The largest absolute eigenvalue of each recurrent matrix of ``cell``.

    >>> import keras
    >>> cell = keras.layers.SimpleRNNCell(3)
    >>> cell.build((None, 1))
    >>> _ = cell.recurrent_kernel.assign(0.5 * keras.ops.eye(3))
    >>> spectral_radii(cell)
    {'W_hh': 0.5}
    """
    from keras import ops

    def radius(matrix) -> float:
        return float(np.max(np.abs(np.linalg.eigvals(np.asarray(matrix, dtype=np.float64)))))

    if type(cell).__name__ == "JordanCell":  # y_{t-1} -> h_t -> y_t
        loop = ops.convert_to_numpy(cell.feedback_kernel) @ ops.convert_to_numpy(cell.output_kernel)
        return {"W_hy W_yh": radius(loop)}
    kernel = ops.convert_to_numpy(cell.recurrent_kernel)  # (units, gates * units)
    names = _BLOCKS[type(cell).__name__]
    return {name: radius(block) for name, block in zip(names, np.split(kernel, len(names), axis=1))}
