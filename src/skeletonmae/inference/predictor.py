"""The Python API: ``skeletonmae.load(checkpoint)`` -> :class:`Predictor` (``predict``, ``embed``).

Inputs are files or folders (see :mod:`skeletonmae.inference.inputs`), a
:class:`~skeletonmae.inference.inputs.SkeletonInput`, or numpy arrays of one ``(C, T, V, M)``
sequence or a padded batch ``(N, C, T, V, M)``. Every sequence is checked against the checkpoint
and goes through its test transform (:mod:`skeletonmae.inference.preprocess`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from skeletonmae.data.samples import valid_lengths
from skeletonmae.inference.checkpoint_model import InferenceModel, load_inference_model
from skeletonmae.inference.features import encode
from skeletonmae.inference.inputs import InputFailure, SkeletonInput, read_inputs
from skeletonmae.inference.preprocess import InvalidInputError, apply_test_transform, check_sequence

InputLike = str | os.PathLike | np.ndarray | SkeletonInput
Inputs = InputLike | Iterable[InputLike]


@dataclasses.dataclass(frozen=True)
class ClassScore:
    """One class of a prediction: 0-based ``index``, readable ``name``, softmax probability."""

    index: int
    name: str
    probability: float


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The ``top`` classes of one input, most probable first."""

    name: str
    source: str
    top: tuple[ClassScore, ...]

    @property
    def label(self) -> str:
        return self.top[0].name

    @property
    def probability(self) -> float:
        return self.top[0].probability

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "top": [dataclasses.asdict(s) for s in self.top]}


@dataclasses.dataclass(frozen=True)
class PredictionReport:
    """Predictions of the inputs that could be used and the failures of the others."""

    predictions: tuple[Prediction, ...]
    failures: tuple[InputFailure, ...]


class InputsFailedError(ValueError):
    """Some inputs could not be used; ``failures`` lists every one with its reason."""

    def __init__(self, failures: Sequence[InputFailure]) -> None:
        self.failures = tuple(failures)
        lines = [failure.error for failure in self.failures]
        super().__init__(f"{len(lines)} input(s) failed:\n  " + "\n  ".join(lines))


class Predictor:
    """A loaded checkpoint that labels and embeds skeleton sequences; sequences with fewer than
    ``min_frames`` valid frames are rejected (one frame is a pose, not an action)."""

    def __init__(self, model: InferenceModel, min_frames: int = 2, batch_size: int = 16) -> None:
        if min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {min_frames} (1 accepts single poses)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.min_frames = min_frames
        self.batch_size = batch_size

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.model.class_names

    @property
    def feature_dim(self) -> int:
        return self.model.model_config.pooled_dim()

    def prepare(self, inputs: Inputs) -> tuple[list[SkeletonInput], list[np.ndarray], list[InputFailure]]:
        """Read and check ``inputs``: the usable ones, their checked ``(C, T, V, M)`` arrays, and
        the failures (never raises for a bad input)."""
        items, failures = self._collect(inputs)
        usable, arrays = [], []
        config, layout = self.model.model_config, self.model.layout
        for item in items:
            try:
                arrays.append(check_sequence(item, config, layout, self.min_frames))
                usable.append(item)
            except InvalidInputError as error:
                failures.append(InputFailure(item.name, item.source, str(error)))
        return usable, arrays, failures

    def checked_arrays(self, inputs: Inputs) -> list[np.ndarray]:
        """The checked ``(C, T, V, M)`` arrays of ``inputs``; raises :class:`InputsFailedError`
        if any input could not be used."""
        _, arrays, failures = self.prepare(inputs)
        if failures:
            raise InputsFailedError(failures)
        return arrays

    def model_input(self, arrays: Sequence[np.ndarray]) -> torch.Tensor:
        """Checked arrays -> ``(N, C, T, V, M)`` test-transformed model input (on the CPU)."""
        m = self.model
        return apply_test_transform(arrays, m.transform, m.layout, m.channels, m.normalization)

    def _collect(self, inputs: Inputs) -> tuple[list[SkeletonInput], list[InputFailure]]:
        if isinstance(inputs, (str, os.PathLike, np.ndarray, SkeletonInput)):
            inputs = [inputs]
        items: list[SkeletonInput] = []
        failures: list[InputFailure] = []
        for entry in inputs:
            if isinstance(entry, SkeletonInput):
                items.append(entry)
            elif isinstance(entry, np.ndarray):
                items.extend(_array_inputs(entry, len(items)))
            else:
                found, failed = read_inputs([Path(entry)], self.model.model_config.num_persons)
                items.extend(found)
                failures.extend(failed)
        return items, failures

    def _model_batches(self, arrays: list[np.ndarray]) -> Iterable[torch.Tensor]:
        """``(B, C, T, V, M)`` test-transformed batches on the model's device."""
        for start in range(0, len(arrays), self.batch_size):
            yield self.model_input(arrays[start : start + self.batch_size]).to(self.model.device)

    @torch.no_grad()
    def probabilities(self, arrays: list[np.ndarray]) -> np.ndarray:
        """Softmax ``(N, K)`` of checked sequences."""
        self._require_head()
        outputs = [
            torch.softmax(self.model.classifier(batch).float(), dim=1).cpu()
            for batch in self._model_batches(arrays)
        ]
        return torch.cat(outputs).numpy() if outputs else np.zeros((0, len(self.class_names)))

    def features(self, arrays: list[np.ndarray], pool: str | None = None) -> np.ndarray:
        """Pooled encoder features ``(N, F)`` of checked sequences (``pool``: ``"mean"`` or
        ``"tuple"``; None: the classifier head's pooling)."""
        return encode(self.model, self._model_batches(arrays), pool)

    def predict_report(self, inputs: Inputs, top_k: int = 5) -> PredictionReport:
        """Predictions for every usable input plus the failures of the others."""
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self._require_head()
        items, arrays, failures = self.prepare(inputs)
        probabilities = self.probabilities(arrays) if arrays else []
        predictions = tuple(self._top_k(item, p, top_k) for item, p in zip(items, probabilities))
        return PredictionReport(predictions, tuple(failures))

    def predict(self, inputs: Inputs, top_k: int = 5) -> list[Prediction]:
        """Top-``top_k`` classes of every input; raises :class:`InputsFailedError` (listing each
        failure) if any input could not be used."""
        report = self.predict_report(inputs, top_k)
        if report.failures:
            raise InputsFailedError(report.failures)
        return list(report.predictions)

    def embed(self, inputs: Inputs, pool: str | None = None) -> np.ndarray:
        """``(N, F)`` float32 pooled encoder features, one row per input sequence in order
        (``pool`` as in :meth:`features`); raises :class:`InputsFailedError` if any input could
        not be used."""
        return self.features(self.checked_arrays(inputs), pool)

    def _require_head(self) -> None:
        if not self.model.has_head:
            raise ValueError(
                f"{self.model.path}: a {self.model.stage} checkpoint has no trained "
                "classifier head; use embed(), or fine-tune it and predict with the "
                "fine-tuned best.pt"
            )

    def _top_k(self, item: SkeletonInput, probabilities: np.ndarray, top_k: int) -> Prediction:
        order = np.argsort(-probabilities, kind="stable")[:top_k]
        scores = tuple(ClassScore(int(i), self.class_names[i], float(probabilities[i])) for i in order)
        return Prediction(item.name, item.source, scores)


def _array_inputs(array: np.ndarray, offset: int) -> list[SkeletonInput]:
    """``(C, T, V, M)`` -> one input; ``(N, C, T, V, M)`` -> N inputs cut to their valid frames."""
    if array.ndim == 4:
        return [SkeletonInput(f"array_{offset}", "<array>", array)]
    if array.ndim != 5:
        raise ValueError(f"array input: expected (C, T, V, M) or (N, C, T, V, M), got shape {array.shape}")
    lengths = valid_lengths(array)  # (N,)
    return [
        SkeletonInput(f"array_{offset + i}", "<array>", array[i, :, : max(int(n), 0)])
        for i, n in enumerate(lengths)
    ]


class EnsemblePredictor(Predictor):
    """Several classifiers of one dataset (e.g. the joint, bone, motion and bone-motion streams)
    as one: each reads the inputs through its own test transform, and the probabilities are the
    weighted mean of their softmax scores (:func:`skeletonmae.evaluation.metrics.fuse_scores`)."""

    def __init__(self, members: Sequence[Predictor], weights: Sequence[float] | None = None) -> None:
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two checkpoints")
        first = members[0]
        for other in members[1:]:
            for what, mine, theirs in (
                ("classes", first.class_names, other.class_names),
                ("layout", first.model.layout.name, other.model.layout.name),
            ):
                if mine != theirs:
                    raise ValueError(
                        f"{first.model.path} and {other.model.path} disagree on their {what}; an "
                        "ensemble fuses classifiers of one dataset"
                    )
        super().__init__(first.model, first.min_frames, first.batch_size)
        self.members = tuple(members)
        self.weights = None if weights is None else tuple(float(w) for w in weights)

    @torch.no_grad()
    def probabilities(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The fused softmax ``(N, K)`` of checked sequences."""
        from skeletonmae.evaluation.metrics import fuse_scores

        scores = [torch.from_numpy(member.probabilities(arrays)) for member in self.members]
        return fuse_scores(scores, self.weights).numpy()

    def embed(self, inputs: Inputs, pool: str | None = None) -> np.ndarray:
        raise ValueError("an ensemble has one encoder per member: embed with one checkpoint")


def load(
    checkpoint: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    device: str | torch.device = "cpu",
    min_frames: int = 2,
    batch_size: int = 16,
    weights: Sequence[float] | None = None,
) -> Predictor:
    """Load a training checkpoint (``best.pt`` of finetune / linear, or of pretrain for
    ``embed`` only) as a :class:`Predictor`; a list of classifier checkpoints loads as one
    :class:`EnsemblePredictor` (``weights``: one per checkpoint, default equal)."""
    if isinstance(checkpoint, (str, os.PathLike)):
        return Predictor(load_inference_model(checkpoint, device), min_frames, batch_size)
    members = [load(path, device, min_frames, batch_size) for path in checkpoint]
    return members[0] if len(members) == 1 and weights is None else EnsemblePredictor(members, weights)
