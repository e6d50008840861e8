"""stog: feature selection and channel pruning with stochastic gates, on stog's Rust core.

scikit-learn estimators (``StogSelector``, ``StogClassifier``, ``StogRegressor``) and the pruning
of TorchScript models (``prune_script``). stog runs on the libtorch of the ``torch`` package, in
this process: torch is imported first, and must be the version stog was built for.
"""

TORCH_VERSION = "2.11.0"
"""The torch version stog is built for (the libtorch of tch 0.24)."""

try:
    import torch as _torch
except ImportError as _e:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"stog runs on the libtorch of torch=={TORCH_VERSION}, which does not import here "
        f"({_e}); install it first: pip install torch=={TORCH_VERSION}"
    ) from _e

if _torch.__version__.split("+")[0] != TORCH_VERSION:
    raise ImportError(
        f"stog is built for torch {TORCH_VERSION} (its Rust core links that libtorch), but torch "
        f"{_torch.__version__} is installed; install torch=={TORCH_VERSION} in this environment, "
        "then reinstall stog"
    )

from . import _core  # noqa: E402,F401  (after torch: its libraries are then loaded)
from ._estimators import StogClassifier, StogRegressor, StogSelector  # noqa: E402
from ._script import PruneResult, prune_script  # noqa: E402

__all__ = [
    "StogSelector",
    "StogClassifier",
    "StogRegressor",
    "prune_script",
    "PruneResult",
    "TORCH_VERSION",
]
