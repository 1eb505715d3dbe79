# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Score laws of the allocator and the one schema of their samples.

The accuracy model of "Cooperative Inference for Real-Time 3D Human Pose Estimation in
Multi-Device Edge Networks"
(eqs. (3)-(9)) needs, per camera, the laws of the device (camera) model's frame confidence on
positive and negative images (``X^+``, ``X^-``), those of the server (edge) model on the same
camera's images (``Y^+``, ``Y^-``) and the positive share ``pi``. This module owns their names
(:data:`LAWS`, :data:`SOURCES`: "device" is the camera model, "server" the edge model), the
samples file every producer writes (:func:`save_samples`, e.g. ``python -m mec_coop.cli
rig-confidence``) and every consumer reads (:func:`load_samples`), the CDFs built from them and
the [ASSUMPTION] Beta laws used when no samples exist.
"""

from dataclasses import dataclass
import functools
from typing import Any, Optional

import numpy as np
from scipy import stats

LAWS = ('x_pos', 'x_neg', 'y_pos', 'y_neg')
SOURCES = ('device', 'server')
# Which law a labelled sample feeds: (source, positive) -> law.
_LAW_OF = {('device', True): 'x_pos', ('device', False): 'x_neg',
           ('server', True): 'y_pos', ('server', False): 'y_neg'}


def law_of(source: str, positive: bool) -> str:
    """Name of the law a score of ``source`` on a positive / negative image belongs to."""
    try:
        return _LAW_OF[(source, bool(positive))]
    except KeyError:
        raise ValueError(f'source must be one of {SOURCES}, got {source!r}') from None


# [ASSUMPTION] (reconstruction of the paper's Sec. III-A): its score distributions (Fig. 5) are
# not available; these Beta laws have their shape (server scores nearer both ends than device
# scores). (a, b) per law.
ASSUMED_BETA = {'x_pos': (5.0, 2.0), 'x_neg': (2.0, 4.0), 'y_pos': (8.0, 1.5), 'y_neg': (1.5, 6.0)}
# [ASSUMPTION] share of positive images (person visible), used with ASSUMED_BETA.
ASSUMED_PI = 0.75


class EmpiricalCdf:
    """
    Empirical distribution function of a confidence score, ``F(z) = Pr[Z < z]``.

    The inequality is strict because the routing keeps a result when ``score >= threshold``
    (:class:`mec_coop.coop.routing.Thresholds`): ``1 - F(theta)`` is then exactly the share of
    scores routed upwards, also for tied scores. For continuous laws it equals the paper's
    ``Pr[Z <= z]``.

    :param samples: observed scores (any shape, finite).
    :param window: keep only the newest ``window`` scores (``None``: keep all).
    """

    def __init__(self, samples, window=None):
        if window is not None and int(window) < 1:
            raise ValueError(f'window must be a positive number of samples, got {window}')
        self.window = None if window is None else int(window)
        self._arrivals = np.empty(0)
        self._sorted = np.empty(0)
        self.update(samples)

    @classmethod
    def from_beta(cls, a, b, num_points=4096, window=None):
        """
        Discretise a Beta(a, b) law into ``num_points`` pseudo-samples.

        The pseudo-samples are the quantiles at ``(i + 1/2) / num_points``, so the CDF is within
        ``1 / (2 num_points)`` of the exact one and is deterministic. They are stored in a
        fixed shuffled order: with a ``window``, later :meth:`update` calls push out a random
        subset of them rather than one tail, so the Beta law acts as an unbiased prior.

        :param a: first Beta shape parameter.
        :param b: second Beta shape parameter.
        :param num_points: number of pseudo-samples.
        :param window: passed to the constructor.
        :return: the :class:`EmpiricalCdf`.
        """
        return cls(_beta_pseudo_samples(a, b, num_points), window=window)

    def update(self, samples):
        """
        Add observed scores; with a ``window`` only the newest ``window`` scores are kept.

        :param samples: new scores (any shape, finite).
        :raises ValueError: on non-finite scores, or when no score would be left.
        """
        new = np.asarray(samples, dtype=float).ravel()
        if not np.all(np.isfinite(new)):
            raise ValueError('scores must be finite')
        kept = np.concatenate([self._arrivals, new])
        if self.window is not None:
            kept = kept[-self.window:]
        if kept.size == 0:
            raise ValueError('an empirical CDF needs at least one score')
        self._arrivals = kept
        self._sorted = np.sort(kept)

    @property
    def size(self):
        """Return the number of scores the CDF is built from."""
        return self._sorted.size

    def __call__(self, z):
        """Return ``Pr[Z < z]`` for every element of ``z`` (same shape)."""
        return np.searchsorted(self._sorted, z, side='left') / self._sorted.size


@functools.lru_cache(maxsize=32)
def _beta_pseudo_samples(a, b, num_points):
    # Cached because the quantile function is slow and the same laws serve every camera; the
    # constructor copies the array, so no two CDFs share state.
    quantiles = stats.beta.ppf((np.arange(num_points) + 0.5) / num_points, a, b)
    return np.random.default_rng(0).permutation(quantiles)


@dataclass(frozen=True)
class CameraModel:
    """
    What the allocator knows about one camera.

    ``x_pos``/``x_neg`` are the CDFs of the device model's mean joint confidence on positive /
    negative images (``X^+``, ``X^-``); ``y_pos``/``y_neg`` those of the server model on the
    same camera's images (``Y^+``, ``Y^-``). Any callable ``F(z) = Pr[Z < z]`` that accepts
    arrays works; :class:`EmpiricalCdf` is the usual one. ``pi`` is the share of positive
    images, ``gain_db`` the channel power gain to the base station.

    [OURS] ``frame_scores``, when set, is the CDF of the camera's frame scores as measured on
    the running graph (every frame, labelled or not): the routes (11) and (13) are then read
    from it directly rather than through ``pi`` and the class laws, which are learned from the
    labelled frames only. ``audit_share`` is the share of the frames the thresholds keep on the
    camera that go up as images anyway (random audits), ``search_share`` the share of the
    dropped frames no audit took that go up whole to have the edge search for people the camera
    lost (no routes of the paper's; 0 there).
    """

    x_pos: EmpiricalCdf
    x_neg: EmpiricalCdf
    y_pos: EmpiricalCdf
    y_neg: EmpiricalCdf
    pi: float = ASSUMED_PI
    gain_db: float = -100.0
    frame_scores: Optional[EmpiricalCdf] = None
    audit_share: float = 0.0
    search_share: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.pi <= 1.0:
            raise ValueError(f'pi must be in [0, 1], got {self.pi}')
        for name in ('audit_share', 'search_share'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {getattr(self, name)}')
        if not np.isfinite(self.gain_db):
            raise ValueError(f'gain_db must be finite, got {self.gain_db}')

    @classmethod
    def assumed(cls, gain_db=-100.0, pi=ASSUMED_PI, num_points=4096):
        """
        Build a camera with the [ASSUMPTION] Beta score laws of reconstruction note A.3.

        Each call builds its own CDF objects, so updating one camera's CDFs leaves the others'.

        :param gain_db: channel power gain in dB.
        :param pi: share of positive images ([ASSUMPTION] 0.75).
        :param num_points: pseudo-samples per law (see :meth:`EmpiricalCdf.from_beta`).
        :return: the :class:`CameraModel`.
        """
        laws = {name: EmpiricalCdf.from_beta(a, b, num_points)
                for name, (a, b) in ASSUMED_BETA.items()}
        return cls(pi=pi, gain_db=gain_db, **laws)


def synthetic_cameras(rng, num, gain_mean_db=-100.0, gain_std_db=10.0, num_points=512):
    """
    Draw random cameras for tests and benchmarks: Beta score laws around the assumed shapes.

    Device scores ``X^+ ~ Beta(U(2,8), U(1,3))``, ``X^- ~ Beta(U(1,3), U(2,8))``; server
    scores ``Y^+ ~ Beta(U(5,12), U(1,2))``, ``Y^- ~ Beta(U(1,2), U(5,12))`` (sharper, as in
    Fig. 5); ``pi ~ U(0.4, 0.9)``; gains ``N(gain_mean_db, gain_std_db^2)`` (note A-11).

    :param rng: ``numpy.random.Generator``.
    :param num: number of cameras.
    :param gain_mean_db: mean channel gain in dB.
    :param gain_std_db: spread of the gains in dB.
    :param num_points: pseudo-samples per law.
    :return: list of :class:`CameraModel`.
    """
    cameras = []
    for _ in range(num):
        shapes = {'x_pos': (rng.uniform(2, 8), rng.uniform(1, 3)),
                  'x_neg': (rng.uniform(1, 3), rng.uniform(2, 8)),
                  'y_pos': (rng.uniform(5, 12), rng.uniform(1, 2)),
                  'y_neg': (rng.uniform(1, 2), rng.uniform(5, 12))}
        laws = {name: EmpiricalCdf.from_beta(a, b, num_points) for name, (a, b) in shapes.items()}
        cameras.append(CameraModel(pi=rng.uniform(0.4, 0.9),
                                   gain_db=rng.normal(gain_mean_db, gain_std_db), **laws))
    return cameras


def save_samples(path: Any, device: np.ndarray, server: np.ndarray, positive: np.ndarray,
                 **extra: np.ndarray) -> None:
    """
    Write paired scores in the samples schema (pooled over cameras) to ``path`` (.npz).

    :param device: camera-model score of each view.
    :param server: edge-model score of the same views.
    :param positive: whether each view is positive (a person is visible).
    :param extra: further columns, stored as ``raw_<name>`` (ignored by :func:`load_samples`).
    """
    pos = np.asarray(positive, dtype=bool)
    device, server = np.asarray(device, dtype=float), np.asarray(server, dtype=float)
    columns: dict[str, Any] = {f'raw_{k}': v for k, v in extra.items()}
    np.savez(path, x_pos=device[pos], x_neg=device[~pos], y_pos=server[pos], y_neg=server[~pos],
             pi=np.mean(pos), **columns)


def load_samples(path, cameras):
    """
    Read per-camera score samples from an ``.npz`` file.

    Keys are ``<camera>/<law>`` (and ``<camera>/pi``) for per-camera samples, or the bare law
    names (and ``pi``) for samples pooled over all cameras; a per-camera key wins over the pooled
    one. Laws are those of :data:`LAWS`; ``pi`` is optional.

    :param path: the ``.npz`` file.
    :param cameras: camera names.
    :return: dict camera -> dict of arrays (and ``pi`` when present).
    :raises ValueError: when a camera lacks a law or a law has no finite score.
    """
    with np.load(path) as data:
        files = set(data.files)
        result = {}
        for cam in cameras:
            samples = {}
            for name in LAWS + ('pi',):
                key = f'{cam}/{name}' if f'{cam}/{name}' in files else name
                if key in files:
                    samples[name] = np.asarray(data[key], dtype=float)
            missing = [name for name in LAWS if name not in samples]
            if missing:
                raise ValueError(f'{path}: no samples of {missing} for {cam} (keys '
                                 f'{cam}/<law> or <law>, laws {LAWS})')
            empty = [name for name in LAWS
                     if not np.isfinite(samples[name]).all() or samples[name].size == 0]
            if empty:
                raise ValueError(f'{path}: {cam} has empty or non-finite samples in {empty}')
            result[cam] = samples
    return result
