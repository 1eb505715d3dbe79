# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Training and evaluation of the action models on virtual-rig seeds (used by the benchmark).

Seeds are split once: training seeds fit the classifiers, validation seeds pick the event
detector's thresholds, held-out test seeds give every reported number. The bundled models in
``models/`` are the ones :func:`train_model` gives on the training seeds (deterministic).
"""

from dataclasses import dataclass, replace
import hashlib
import itertools
import pathlib
import pickle

import numpy as np

from .classifier import ActionClassifier, KINDS, sequence_features, train
from .data import NoiseModel, rig_sequence, Sequence, streams
from .events import detect, DetectorSettings, EVENT_ACTIONS, EventScore, score_events

MODELS_DIR = pathlib.Path(__file__).resolve().parent / 'models'
FRAME_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16)
# The bound on the mean onset-to-event latency: thresholds and m are picked under it.
LATENCY_BOUND_S = 1.0
# Detector thresholds tried on validation: on, off, min_frames, refractory_s (off > on skipped).
THRESHOLD_GRID = ((0.4, 0.5, 0.6, 0.7, 0.8, 0.9), (0.2, 0.3, 0.4), (1, 2), (1.5, 3.0))


@dataclass(frozen=True)
class StudySetup:
    """Rates, horizon and seed split of the study (defaults: the bundled models')."""

    fps: float = 5.0
    horizon_s: float = 3.0
    duration_s: float = 300.0
    num_cameras: int = 4
    train_seeds: tuple[int, ...] = tuple(range(100, 124))
    validation_seeds: tuple[int, ...] = tuple(range(124, 132))
    test_seeds: tuple[int, ...] = tuple(range(8))
    epochs: int = 15
    stride: tuple[int, int] = (3, 12)    # training windows: every 3rd (3D), 12th (2D)
    # Rate augmentation: each training stream also at 1/2 and 1/3 of its rate (every 2nd, 3rd
    # skeleton), so that a model trained at 5 Hz also serves slower skeleton streams.
    rate_strides: tuple[int, ...] = (1, 2, 3)


def bundled_path(kind: str, m: int) -> pathlib.Path:
    """Path of the bundled model of ``kind`` with ``m`` frames."""
    return MODELS_DIR / f'action_{kind}_m{m:02d}.npz'


def bundled_frame_counts(kind: str) -> tuple[int, ...]:
    """Return the m of the bundled models of ``kind`` (ascending)."""
    return tuple(sorted(int(p.stem.rsplit('_m', 1)[1]) for p in
                        MODELS_DIR.glob(f'action_{kind}_m*.npz')))


def load_bundled(kind: str, m: int) -> ActionClassifier:
    """Load the bundled model of ``kind`` and ``m``; a clear error names the available m."""
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    path = bundled_path(kind, m)
    if not path.exists():
        raise ValueError(f'no bundled {kind} action model with m={m}; available: '
                         f'{list(bundled_frame_counts(kind))} (benchmarks/actions.py trains them)')
    return ActionClassifier.load(path)


def sequences(seeds: tuple[int, ...], setup: StudySetup, cache: pathlib.Path | None = None,
              noise: NoiseModel = NoiseModel()) -> list[Sequence]:
    """Rig sequences of ``seeds`` with ``noise``, cached per seed in ``cache`` when given."""
    out = []
    # Every error model gets its own files: the defaults change when the pipeline is measured
    # again, and a cache keyed on "the defaults" served the old ones.
    tag = '_' + hashlib.sha1(repr(noise).encode()).hexdigest()[:8]
    for seed in seeds:
        path = None if cache is None else cache / (
            f'sequence_{seed}_{setup.fps}_{setup.duration_s}_{setup.num_cameras}{tag}.pkl')
        if path is not None and path.exists():
            out.append(pickle.loads(path.read_bytes()))
            continue
        out.append(rig_sequence(seed, setup.duration_s, setup.fps, setup.num_cameras, noise))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(out[-1]))
    return out


def train_model(kind: str, m: int, training: list[Sequence],
                setup: StudySetup) -> ActionClassifier:
    """Fit the ``kind`` classifier with ``m`` frames on every stream of ``training``."""
    # Neighbouring windows are nearly the same sample: a stride keeps training time small
    # (the 2D model has one stream per camera, hence the larger stride).
    stride = setup.stride[KINDS.index(kind)]
    data = [(sequence_features(kind, points[k::rate], stamps[k::rate], m,
                               setup.horizon_s)[::stride], labels[k::rate][::stride])
            for points, stamps, labels in streams(training, kind)
            for rate in setup.rate_strides for k in [rate // 2]]
    return train(kind, m, setup.horizon_s, setup.fps, np.concatenate([d[0] for d in data]),
                 np.concatenate([d[1] for d in data]), epochs=setup.epochs)


@dataclass
class Evaluation:
    """Frame accuracy and per-action event scores of one model on some sequences."""

    accuracy: float
    frames: int
    events: dict[str, EventScore]


def _probabilities(model, evaluation):
    """``(sequence, stamps, probabilities)`` of every stream the model would see."""
    views = 1 if model.kind == '3d' else evaluation[0].seen.shape[0]
    owners = [s for s in evaluation for _ in range(views)]
    return [(s, stamps, labels, model.predict_proba(
        sequence_features(model.kind, points, stamps, model.m, model.horizon_s)))
        for s, (points, stamps, labels) in zip(owners, streams(evaluation, model.kind))]


def evaluate(model: ActionClassifier, evaluation: list[Sequence],
             settings: DetectorSettings = DetectorSettings(), probabilities=None) -> Evaluation:
    """Score ``model`` (frames and events) on ``evaluation``; 2D: every camera's own stream."""
    results = probabilities or _probabilities(model, evaluation)
    hits = np.concatenate([p.argmax(axis=1) == labels for _, _, labels, p in results])
    scores = {a: EventScore(0, 0, 0, (), ()) for a in settings.actions}
    for sequence, stamps, _, p in results:
        events = detect(settings, model.classes, stamps, p)
        for action in settings.actions:
            scores[action] += score_events(events, sequence.episodes, action)
    return Evaluation(float(hits.mean()), int(hits.size), scores)


def select_detector(model: ActionClassifier, validation: list[Sequence],
                    base: DetectorSettings = DetectorSettings(),
                    latency_budget_s: float = LATENCY_BOUND_S, per_action: bool = False,
                    grid: tuple[tuple, ...] = THRESHOLD_GRID) -> DetectorSettings:
    """
    Pick the detector thresholds on ``validation`` from ``grid`` (on, off, min_frames, refractory).

    The best worst-action event F1 (no reported action is traded for another) among the
    settings whose mean latency, for every reported action, stays within ``latency_budget_s``
    (the events must be timely, not only right), the smaller worst latency on a tie; when none
    does, the settings with the smallest worst latency. ``per_action``: the same rule for each
    action alone, as :attr:`DetectorSettings.per_action` beside the shared pick, and each
    action's onset lag: the median by which the estimated onsets trail the true ones on
    ``validation``.
    """
    probabilities = _probabilities(model, validation)
    scored = []
    for on, off, frames, refractory in itertools.product(*grid):
        if off > on:
            continue
        settings = replace(base, on_threshold=on, off_threshold=off, min_frames=frames,
                           refractory_s=refractory, per_action=())
        events = evaluate(model, validation, settings, probabilities).events
        scored.append((_rank(events.values(), latency_budget_s), events, settings))
    shared = max(scored, key=lambda item: item[0])[2]
    if not per_action:
        return shared
    own = [max(scored, key=lambda item: _rank([item[1][a]], latency_budget_s))[2].of(a)
           for a in base.actions]
    chosen = replace(shared, onset_lags=(), per_action=tuple(
        (s.actions[0], s.on_threshold, s.off_threshold, s.min_frames, s.refractory_s)
        for s in own))
    errors = evaluate(model, validation, chosen, probabilities).events
    return replace(chosen, onset_lags=tuple(
        (a, round(max(float(np.median(errors[a].onset_errors)), 0.0), 2))
        for a in chosen.actions if errors[a].onset_errors))


def select_frames(validation: dict[int, dict[str, EventScore]],
                  latency_budget_s: float = LATENCY_BOUND_S) -> int:
    """
    Pick m from the validation event scores of each m's model with its own thresholds.

    The same rule as :func:`select_detector` over every reported action: the best worst-action
    F1 among the m whose mean latency stays within ``latency_budget_s`` for every action, else
    the smallest worst latency; on a tie the sooner, then the smaller m (fewer MACs, eq. (14)).
    """
    if not validation:
        raise ValueError('no validation scores to pick m from')
    return max(sorted(validation),
               key=lambda m: _rank(validation[m].values(), latency_budget_s))


def _rank(scores, latency_budget_s):
    """Sort key of the event scores of some actions: timely, worst F1, then the sooner."""
    f1 = float(min(s.f1 for s in scores))
    latency = max((float(np.mean(s.latencies)) if s.latencies else np.inf) for s in scores)
    timely = latency <= latency_budget_s
    # Equal F1 (counts of a few dozen events tie often): the budget is a bound, not a target.
    return (timely, f1 if timely else -latency, -latency)


def latency_parts(model: ActionClassifier, evaluation: list[Sequence],
                  settings: DetectorSettings, action: str) -> dict[str, float]:
    """
    Where the onset-to-event latency of ``action`` goes, mean seconds after the true starts.

    Over the occurrences that got an event (as :func:`score_events` matches them): the first
    skeleton received after the start (skeleton period and missing skeletons), the first one at
    which the action's probability reaches its on threshold (the classifier's evidence), and
    the event (the detector: ``min_frames``, the refractory time, a switch still on).
    """
    on = settings.of(action).on_threshold
    k = model.classes.index(action)
    parts: dict[str, list[float]] = {'first_skeleton': [], 'first_confident': [], 'event': []}
    for sequence, stamps, _, p in _probabilities(model, evaluation):
        events = [e for e in detect(settings, model.classes, stamps, p) if e.action == action]
        fired = {}
        for event in events:    # score_events' matching: the first unmatched occurrence
            hit = next((ep for ep in sequence.episodes if ep[0] == action and ep not in fired
                        and ep[1] <= event.stamp <= ep[2] + 1.0), None)
            if hit is not None:
                fired[hit] = event.stamp
        for (_, start, _), stamp in fired.items():
            window = (stamps >= start) & (stamps <= stamp)
            confident = window & (p[:, k] >= on)
            parts['first_skeleton'].append(float(stamps[window][0] - start))
            parts['first_confident'].append(float(stamps[confident][0] - start)
                                            if confident.any() else stamp - start)
            parts['event'].append(stamp - start)
    return {key: float(np.mean(v)) if v else float('nan') for key, v in parts.items()}


def sampling_latency(evaluation: list[Sequence], action: str, delay_s: float) -> float:
    """
    Mean latency of an oracle that fires ``delay_s`` or more after each start of ``action``.

    It fires on the first 3D skeleton received then: what the skeleton rate and the missing
    skeletons alone cost once the body shows the action ``delay_s`` after it started.
    """
    latencies = []
    for sequence in evaluation:
        stamps = sequence.stamps[sequence.present]
        for name, start, _ in sequence.episodes:
            later = stamps[stamps >= start + delay_s]
            if name == action and later.size:
                latencies.append(later[0] - start)
    return float(np.mean(latencies))


__all__ = ['EVENT_ACTIONS', 'FRAME_COUNTS', 'StudySetup', 'bundled_frame_counts',
           'bundled_path', 'evaluate', 'LATENCY_BOUND_S', 'latency_parts', 'load_bundled',
           'sampling_latency', 'select_detector', 'select_frames', 'sequences',
           'THRESHOLD_GRID', 'train_model']
