"""Serving wrapper around ECG-FM: recordings → segments → one batched forward → per-recording results."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from scipy.special import expit

from ..device import resolve_device, resolve_dtype
from ..errors import ModelNotConfigured
from ..leads import TwelveLead
from ..settings import Settings
from ..signal import Recording
from ..sources import is_disabled
from .checkpoint import load_ecgfm
from .demo import demo_weights
from .labels import aggregate_segments, default_thresholds, parse_thresholds
from .model import ECGFM
from .preprocess import arrange_leads, model_segments

MAX_SEGMENTS_PER_FORWARD = 64  # bounds activation memory for long recordings or large requests


def serving_dtype(settings: Settings, device: torch.device) -> torch.dtype:
    """`resolve_dtype`, except that ``auto`` on a CPU with native bf16 (AVX512-BF16 or AMX) picks bfloat16.

    bf16 weights run ECG-FM about 3.6× faster than fp32 on such CPUs with sigmoid outputs within 0.002
    (bench/README.md); ECG_DTYPE=float32 restores exact fp32.
    """
    if settings.dtype == "auto" and device.type == "cpu" and _cpu_has_native_bf16():
        return torch.bfloat16
    return resolve_dtype(settings, device)


def _cpu_has_native_bf16() -> bool:
    # Private but long-standing torch.cpu probes; absent ones mean "no" (falls back to float32).
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


@dataclass(frozen=True)
class _Prepared:
    leads: TwelveLead
    segments: np.ndarray  # (n_segments, 12, 2500) float32


class ECGFMRunner:
    """Classifies recordings with the ECG-FM classifier and embeds them (pretrained encoder when configured)."""

    def __init__(self, classifier: ECGFM, classifier_source: str, *, encoder_source: str | None,
                 thresholds: dict[str, float], device: torch.device, dtype: torch.dtype, demo: bool,
                 trust_pickle: bool = False, repo_dir: Path | None = None):
        self.classifier = classifier
        self.classifier_source = classifier_source
        self.encoder_source = encoder_source
        self.thresholds = thresholds
        self.device, self.dtype, self.demo = device, dtype, demo
        self._trust_pickle, self._repo_dir = trust_pickle, repo_dir
        self._encoder: ECGFM | None = None
        self._encoder_lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    def feature_dim(self) -> int:
        """Size of the `features` embedding (loads the pretrained encoder first when one is configured)."""
        model = self.classifier if self.encoder_source is None else self._load_encoder()
        return model.config.embed_dim

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.classifier_source,
            "encoder_source": self.encoder_source,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "demo": self.demo,
            "labels": len(self.labels),
            "parameters": sum(parameter.numel() for parameter in self.classifier.parameters()),
        }

    def predict(self, recordings: Sequence[Recording], *, classify: bool = True, return_features: bool = False,
                return_segments: bool = False, pad_short: bool = False,
                thresholds: Any = None) -> list[dict[str, Any]]:
        """One result dict per recording; all recordings' segments go through the model together."""
        cutoffs = self.thresholds if thresholds is None else parse_thresholds(
            thresholds, "parameters.thresholds", base=self.thresholds)
        prepared = [self._prepare(recording, pad_short) for recording in recordings]
        if not prepared:
            return []
        batch = np.concatenate([item.segments for item in prepared])
        probabilities = embeddings = None
        if classify or (return_features and self.encoder_source is None):
            logits, embeddings = self._forward(self.classifier, batch)
            probabilities = expit(logits)  # multi-label: an independent sigmoid per label
        if return_features and self.encoder_source is not None:
            embeddings = self._forward(self._load_encoder(), batch)[1]
        bounds = np.cumsum([len(item.segments) for item in prepared])[:-1]
        per_recording_probabilities = np.split(probabilities, bounds) if classify else [None] * len(prepared)
        per_recording_embeddings = np.split(embeddings, bounds) if return_features else [None] * len(prepared)
        return [self._result(item, item_probabilities, item_embeddings, cutoffs, return_segments)
                for item, item_probabilities, item_embeddings
                in zip(prepared, per_recording_probabilities, per_recording_embeddings)]

    def _prepare(self, recording: Recording, pad_short: bool) -> _Prepared:
        leads = arrange_leads(recording.signal, recording.lead_names)
        return _Prepared(leads, model_segments(leads.signal, recording.fs, pad_short))

    @torch.inference_mode()
    def _forward(self, model: ECGFM, batch: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(N, 12, 2500) → logits (N, L) or None, embeddings (N, D), as float64, in chunks."""
        logits, embeddings = [], []
        for start in range(0, len(batch), MAX_SEGMENTS_PER_FORWARD):
            chunk = torch.from_numpy(batch[start:start + MAX_SEGMENTS_PER_FORWARD])
            output = model(chunk.to(device=self.device, dtype=self.dtype))
            embeddings.append(output["embeddings"].double().cpu().numpy())
            if output["logits"] is not None:
                logits.append(output["logits"].double().cpu().numpy())
        return (np.concatenate(logits) if logits else None), np.concatenate(embeddings)

    def _load_encoder(self) -> ECGFM:
        # Loaded on the first features request only, so plain classification does not hold two models.
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = load_ecgfm(self.encoder_source, self.device, self.dtype,
                                           trust_pickle=self._trust_pickle, repo_dir=self._repo_dir)
            return self._encoder

    def _result(self, item: _Prepared, probabilities: np.ndarray | None, embeddings: np.ndarray | None,
                cutoffs: dict[str, float], return_segments: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        segments: list[dict[str, Any]] = [{} for _ in range(len(item.segments))]
        if probabilities is not None:
            recording_probabilities = aggregate_segments(probabilities, self.labels)
            result["labels"] = [
                {"name": name, "probability": float(probability), "threshold": cutoffs[name],
                 "present": bool(probability >= cutoffs[name])}
                for name, probability in zip(self.labels, recording_probabilities)]
            result["findings"] = [label["name"] for label in result["labels"] if label["present"]]
            for segment, row in zip(segments, probabilities):
                segment["probabilities"] = dict(zip(self.labels, row.tolist()))
        if embeddings is not None:
            result["features"] = embeddings.mean(axis=0).tolist()
            result["feature_dim"] = int(embeddings.shape[1])
            result["feature_source"] = self.encoder_source or self.classifier_source
            for segment, row in zip(segments, embeddings):
                segment["features"] = row.tolist()
        if return_segments:
            result["segments"] = [{"index": index, "start_s": index * 5.0, **segment}
                                  for index, segment in enumerate(segments)]
        result["n_segments"] = len(item.segments)
        result["leads"] = {"recorded": list(item.leads.recorded), "derived": list(item.leads.derived),
                           "missing": list(item.leads.missing)}
        if item.leads.missing:
            result["notes"] = [f"leads {', '.join(item.leads.missing)} were not given and could not be "
                               "derived; the model saw them as flat (zero)"]
        result["model_source"] = self.classifier_source
        return result


def build_runner(settings: Settings) -> ECGFMRunner:
    """Load the configured classifier (or build demo weights); raises `ModelNotConfigured` with the reason."""
    device = resolve_device(settings)
    dtype = serving_dtype(settings, device)
    if settings.demo:
        classifier_source = str(demo_weights(settings.cache_dir / "demo" / "ecgfm"))
        shown_source = "demo (random ECG-FM weights)"  # results show the configured source, never server paths
        encoder_source = None  # never download in demo mode: features come from the demo classifier
    else:
        classifier_source = shown_source = settings.ecgfm_classifier
        encoder_source = None if is_disabled(settings.ecgfm_encoder) else settings.ecgfm_encoder
    classifier = load_ecgfm(classifier_source, device, dtype, trust_pickle=settings.ecgfm_trust_pickle,
                            repo_dir=settings.repo_dir)
    if not classifier.labels:
        raise ModelNotConfigured(f"ECGFM_CLASSIFIER={classifier_source!r} is an encoder without a classifier head")
    thresholds = default_thresholds(classifier.labels)
    if settings.ecgfm_thresholds:
        thresholds = parse_thresholds(settings.ecgfm_thresholds, "ECGFM_THRESHOLDS", base=thresholds)
    return ECGFMRunner(classifier, shown_source, encoder_source=encoder_source, thresholds=thresholds,
                       device=device, dtype=dtype, demo=settings.demo, trust_pickle=settings.ecgfm_trust_pickle,
                       repo_dir=settings.repo_dir)
