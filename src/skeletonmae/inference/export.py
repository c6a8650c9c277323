"""Export a classifier to ONNX: ``(N, C, T, V, M)`` skeletons -> ``(N, K)`` logits.

:class:`~skeletonmae.models.classifier.SkeletonClassifier` packs the present persons (``nonzero``:
a data-dependent shape), which tracing and ``torch.export`` cannot keep general;
:class:`ExportableClassifier` computes every person slot and pools the present ones with a 0/1
weight. In eval mode rows are independent, so the two give equal logits (tested).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skeletonmae.atomic import atomic_path
from skeletonmae.models.classifier import SkeletonClassifier, pool_features
from skeletonmae.models.persons import check_input

INPUT_NAME = "skeletons"
OUTPUT_NAME = "logits"


def present_person_weights(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, V, M) -> (N, M)`` float 0/1: the person has a nonzero coordinate; a sample with
    none present weights its first person (what :func:`skeletonmae.models.persons.present_persons`
    decides, written without in-place ops or data-dependent shapes)."""
    present = (x.abs().amax(dim=(1, 2, 3)) > 0).to(x.dtype)  # (N, M)
    first_slot = (torch.arange(x.shape[4], device=x.device) == 0).to(x.dtype)  # (M,)
    nobody = (present.sum(dim=1, keepdim=True) == 0).to(x.dtype)  # (N, 1)
    return present + nobody * first_slot


class ExportableClassifier(nn.Module):
    """A traceable view of a trained :class:`SkeletonClassifier` (shares its modules):
    ``forward(x (N, C, T, V, M)) -> (N, K)`` logits, equal to the classifier's in eval mode."""

    def __init__(self, classifier: SkeletonClassifier) -> None:
        super().__init__()
        self.config = classifier.config
        self.encoder = classifier.encoder
        self.head = classifier.head

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, V, M) -> (N, F)``: pooled as the head expects (``config.head_pool``), then
        averaged over present persons."""
        check_input(x, self.config)
        n, c, t, v, m = x.shape
        rows = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)  # (N*M, C, T, V)
        pooled = pool_features(self.encoder(rows), self.config.head_pool).reshape(n, m, -1)  # (N, M, F)
        weight = present_person_weights(x).unsqueeze(2)  # (N, M, 1)
        return (pooled * weight).sum(dim=1) / weight.sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def _prepared(classifier: SkeletonClassifier, example: torch.Tensor) -> ExportableClassifier:
    if not isinstance(classifier, SkeletonClassifier):
        raise TypeError(f"expected a SkeletonClassifier, got {type(classifier).__name__}")
    check_input(example, classifier.config, name="example input")
    return ExportableClassifier(classifier).eval()


def export_onnx(classifier: SkeletonClassifier, path: str | os.PathLike[str], example: torch.Tensor) -> Path:
    """Export to ONNX with ``torch.onnx.export`` (``torch.export`` based, dynamic batch axis),
    weights inside the file. Needs the optional ``onnx`` and ``onnxscript`` packages
    (``pip install -e .[onnx]``)."""
    try:
        import onnx  # noqa: F401  (torch.onnx's exporter needs both)
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise _missing_onnx("ONNX export", error) from error
    module = _prepared(classifier, example)
    batch = torch.export.Dim("batch", min=1)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"x": {0: batch}},
            verbose=False,
        )
    with atomic_path(path) as temp:
        program.save(str(temp), external_data=False)
    return Path(path)


def _missing_onnx(purpose: str, error: ImportError) -> ImportError:
    return ImportError(
        f"{purpose} needs the optional ONNX packages ({error}); install onnx, "
        "onnxscript and onnxruntime (`pip install -e .[onnx]`)"
    )


def onnx_runtime_available() -> bool:
    """Whether ``onnxruntime`` can be imported (ONNX parity checks need it)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def run_exported(path: str | os.PathLike[str], x: np.ndarray) -> np.ndarray:
    """Logits ``(N, K)`` of an exported ONNX file on ``x (N, C, T, V, M)`` float32, run by ONNX Runtime."""
    try:
        import onnxruntime
    except ImportError as error:
        raise _missing_onnx("running an ONNX export", error) from error
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})[0]


@dataclasses.dataclass(frozen=True)
class ParityResult:
    """How closely an exported file reproduces PyTorch's logits on ``num_samples`` inputs; ``ok``
    when ``max_abs_diff <= atol + rtol * max_abs_logit`` (float32 rounding scales with the logits)."""

    num_samples: int
    max_abs_diff: float
    max_abs_logit: float
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.atol + self.rtol * self.max_abs_logit


def check_parity(
    classifier: SkeletonClassifier,
    path: str | os.PathLike[str],
    x: torch.Tensor,
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> ParityResult:
    """Run the exported file and the PyTorch classifier (eval mode) on ``x (N, C, T, V, M)``."""
    classifier.eval()
    with torch.no_grad():
        reference = classifier(x).float().cpu().numpy()  # (N, K), the packing path
    exported = run_exported(path, x.cpu().numpy())
    if exported.shape != reference.shape:
        raise ValueError(
            f"{path}: exported model returned shape {exported.shape}, PyTorch "
            f"{reference.shape}; the export is broken, export again"
        )
    diff = float(np.abs(exported - reference).max()) if reference.size else 0.0
    scale = float(np.abs(reference).max()) if reference.size else 0.0
    return ParityResult(int(x.shape[0]), diff, scale, atol, rtol)


def example_input(classifier: SkeletonClassifier, seed: int = 0) -> torch.Tensor:
    """A deterministic ``(2, C, T, V, M)`` batch whose first sample lacks its last person (when
    ``M > 1``), so that the person weighting is exercised."""
    cfg = classifier.config
    generator = torch.Generator().manual_seed(seed)
    shape = (2, cfg.in_channels, cfg.num_frames, cfg.num_joints, cfg.num_persons)
    x = torch.randn(shape, generator=generator) * 0.3  # metres around the centre joint
    if cfg.num_persons > 1:
        x[0, ..., -1] = 0
    return x
