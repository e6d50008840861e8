"""Channel and feature pruning of TorchScript models: what `stog script` runs, from Python."""

import dataclasses
import json
import os
import tempfile

import numpy as np
import torch

from . import _core


@dataclasses.dataclass
class PruneResult:
    """What :func:`prune_script` returns.

    Attributes
    ----------
    module : torch.jit.ScriptModule
        The model without gates: dropped inputs or channels are cut out of its weights.
    lambda_ : float
        The penalty of that model (the chosen point of the path, or the fixed one).
    result : dict
        Its ``result.json``: per gate layer the kept units, validation and test metrics, the best
        epoch, multiply-adds before and after (when the model reports them), what the export
        removed.
    path : list of dict or None
        With ``lambda_="auto"``, every point of the path (lambda, kept units, multiply-adds,
        validation and test metrics), as ``path.json``; None for a fixed lambda.
    """

    module: torch.jit.ScriptModule
    lambda_: float
    result: dict
    path: list | None


def prune_script(
    model,
    X,
    y,
    *,
    task="classification",
    placement="input",
    input_shape=None,
    gate="stg",
    lambda_="auto",
    lambdas=None,
    epochs=300,
    warmup_epochs=30,
    batch_size=None,
    gate_lr=0.05,
    train_backbone=False,
    backbone_lr=1e-3,
    refit_epochs=0,
    split=(0.6, 0.2, 0.2),
    device="auto",
    random_state=0,
    out_dir=None,
):
    """Puts gate layers into a TorchScript model, trains them on ``X, y`` and returns the model
    pruned, in this process (``stog script`` from Python).

    Parameters
    ----------
    model : torch.jit.ScriptModule or path
        A scripted or traced model (or the file it was saved to). With ``placement="inside"`` it
        exports ``stage0 ... stageK`` methods, or the gate protocol ``gate_dims()`` and
        ``forward_gates(x, gates)``.
    X : array or tensor of shape (n_samples, n_features)
        The rows, flat; ``input_shape`` reshapes each to ``(C, H, W)``.
    y : array or tensor of shape (n_samples,)
        Class indices ``0 ... K-1`` (the model's output columns), or values for regression.
    task : "classification" or "regression"
    placement : "input" or "inside"
        A gate in front of ``forward`` (over features, or input channels with ``input_shape``),
        or gates inside the model.
    input_shape : tuple of int or None
        ``(C, H, W)`` of one row.
    gate : str
        The gate of every gate layer, e.g. ``"ste"`` or ``"stg:sigma=0.25"``.
    lambda_ : "auto" or float
        ``"auto"`` fits the warm-started path over ``lambdas`` (default ``0, 0.001, 0.003,
        0.01, 0.03, 0.1, 0.3``) and keeps the sparsest point within one standard error of the
        best validation score; a number fits that lambda only.
    epochs, warmup_epochs, batch_size, gate_lr : training of the gates (``batch_size=None``:
        full batch).
    train_backbone, backbone_lr : fine-tune the model's own weights with the gates.
    refit_epochs : after each lambda, epochs of training the backbone alone under the fixed
        gates (needs ``train_backbone=True``).
    split : (train, validation, test) fractions of the rows (stratified for classification).
    device : "auto", "cpu", "cuda" or "cuda:N"
    random_state : int, the seed of the split and of the gates.
    out_dir : path or None
        Where the files of ``stog script`` go (``pruned.pt``, ``result.json``, ``path.json`` and
        ``lambda_L/`` per point); None uses a temporary folder, removed afterwards.

    Returns
    -------
    PruneResult
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if isinstance(lambda_, str):
        if lambda_ != "auto":
            raise ValueError(f"lambda_ must be 'auto' or a number >= 0, got {lambda_!r}")
        fixed = None
    else:
        fixed = float(lambda_)
    if len(split) != 3:
        raise ValueError(f"split must be three fractions (train, validation, test), got {split!r}")
    x = _array(X, "X")
    if x.ndim != 2:
        raise ValueError(
            f"X must be 2-D (rows x features; input_shape reshapes rows), got shape {x.shape}"
        )
    target = _array(y, "y").astype(np.float64)
    if target.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {target.shape}")
    seed = int(random_state)
    if seed < 0:
        raise ValueError(f"random_state must be >= 0, got {random_state}")
    with tempfile.TemporaryDirectory(prefix="stog-script-") as tmp:
        if isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
        elif isinstance(model, torch.jit.ScriptModule):
            path = os.path.join(tmp, "model.pt")
            torch.jit.save(model, path)
        else:
            raise TypeError(
                "model must be a torch.jit.ScriptModule (torch.jit.script or torch.jit.trace) or "
                f"the path of one, got {type(model).__name__}"
            )
        out = os.fspath(out_dir) if out_dir is not None else os.path.join(tmp, "out")
        chosen = _core.prune_script(
            path,
            x,
            target,
            task,
            out,
            placement=placement,
            input_shape=None if input_shape is None else [int(s) for s in input_shape],
            gate=gate,
            lambda_=fixed,
            lambdas=None if lambdas is None else [float(v) for v in lambdas],
            epochs=int(epochs),
            warmup_epochs=int(warmup_epochs),
            batch_size=None if batch_size is None else int(batch_size),
            gate_lr=float(gate_lr),
            train_backbone=bool(train_backbone),
            backbone_lr=float(backbone_lr),
            refit_epochs=int(refit_epochs),
            fractions=[float(f) for f in split],
            seed=seed,
            device=device,
        )
        with open(os.path.join(out, "result.json"), encoding="utf-8") as f:
            result = json.load(f)
        points = None
        if fixed is None:
            with open(os.path.join(out, "path.json"), encoding="utf-8") as f:
                points = json.load(f)["path"]
        pruned = os.path.join(out, "pruned.pt")
        if not os.path.exists(pruned):
            raise ValueError(
                f"the gated model at lambda {chosen} could not be exported pruned: "
                f"{result.get('not_exported')}"
            )
        module = torch.jit.load(pruned)
    return PruneResult(module=module, lambda_=chosen, result=result, path=points)


def _array(a, what):
    """A NumPy array of `a` (a tensor is copied to the CPU), float64 or float32."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{what} must be numbers: {e}") from None
    return a
