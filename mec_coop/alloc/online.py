# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Score laws of the allocator from data: a samples file, and run-time samples with ground truth.

The accuracy model (reconstruction note A.3) needs, per camera, the laws of the device model's mean
joint confidence on positive and negative images (``X^+``, ``X^-``), those of the server model
(``Y^+``, ``Y^-``) and the positive share ``pi``. :class:`CameraScores` holds them as sliding
windows (:class:`~mec_coop.alloc.model.EmpiricalCdf`) that start from a prior (the [ASSUMPTION]
Beta laws or a samples file) and take labelled run-time scores; :class:`StampJoin` labels the
scores by pairing them with the ground truth of the same camera and capture stamp.

Known bias of run-time samples: the server only sees the frames a camera offloads, so ``Y^+``
and ``Y^-`` learn the server scores of *uncertain* frames, whereas (7)-(8) use the unconditional
laws (independence of device and server scores given the class, A.3).
"""

import collections

from mec_coop.alloc.scores import (ASSUMED_BETA, ASSUMED_PI, CameraModel, EmpiricalCdf,
                                   law_of, LAWS, SOURCES)


# Pseudo-samples per law of the assumed prior in the allocator: its 75 s Pareto runs learn
# about 150 labelled frames per camera, which 1000 pseudo-samples (the window) outweighed
# 7 to 1, so the plans followed the assumed laws, not the cameras; at 50 the learned samples
# weigh as much as the prior after about half a minute.
PRIOR_SAMPLES = 50


class CameraScores:
    """
    Sliding-window score laws and positive share of one camera.

    ``pi`` is estimated from the labels of the camera's own frames (one per device sample). The
    prior counts as ``prior_labels`` labels at ``prior_pi``; real labels replace prior weight
    one for one once the window is full, the expected effect of pushing random prior labels out
    (as :meth:`EmpiricalCdf.from_beta` does for scores).

    :param laws: dict law name -> :class:`EmpiricalCdf` (all of :data:`LAWS`).
    :param prior_pi: positive share of the prior.
    :param prior_labels: weight of ``prior_pi`` in labels.
    :param window: keep this many newest labels (``None``: all), as the CDF windows.
    """

    def __init__(self, laws, prior_pi, prior_labels, window=None):
        missing = set(LAWS) - set(laws)
        if missing:
            raise ValueError(f'score laws missing: {sorted(missing)}')
        if not 0.0 <= prior_pi <= 1.0:
            raise ValueError(f'pi must be in [0, 1], got {prior_pi}')
        self.laws = dict(laws)
        self.prior_pi = float(prior_pi)
        self.prior_labels = max(int(prior_labels), 0)
        self.window = window
        self._labels = collections.deque(maxlen=window)
        self.added = collections.Counter()

    @classmethod
    def assumed(cls, window=None, num_points=4096):
        """
        Start from the [ASSUMPTION] Beta laws and ``pi`` of reconstruction note A.3.

        :param window: sliding window of every law (``None``: keep all samples).
        :param num_points: pseudo-samples per law.
        :return: :class:`CameraScores`.
        """
        laws = {name: EmpiricalCdf.from_beta(a, b, num_points, window=window)
                for name, (a, b) in ASSUMED_BETA.items()}
        return cls(laws, ASSUMED_PI, 2 * num_points, window)

    @classmethod
    def from_samples(cls, samples, window=None):
        """
        Start from observed scores: dict with the arrays of :data:`LAWS` and optionally ``pi``.

        Without ``pi`` the share of positives is ``len(x_pos) / (len(x_pos) + len(x_neg))``,
        which holds when the device samples are all frames of a representative recording.

        :param samples: mapping law name -> scores, optional ``'pi'``.
        :param window: sliding window of every law (``None``: keep all samples).
        :return: :class:`CameraScores`.
        """
        laws = {name: EmpiricalCdf(samples[name], window=window) for name in LAWS}
        count = laws['x_pos'].size + laws['x_neg'].size
        pi = float(samples['pi']) if 'pi' in samples else laws['x_pos'].size / count
        return cls(laws, pi, count, window)

    def add(self, source, positive, score):
        """
        Add one labelled score.

        :param source: ``'device'`` (camera model, ``X``) or ``'server'`` (edge model, ``Y``).
        :param positive: ground-truth label of the frame.
        :param score: the model's mean joint confidence.
        """
        law = law_of(source, positive)
        self.laws[law].update([float(score)])
        self.added[law] += 1
        if source == 'device':
            self._labels.append(bool(positive))

    @property
    def pi(self):
        """Return the current positive share (prior and labels, see the class docstring)."""
        real = len(self._labels)
        prior = self.prior_labels if self.window is None else \
            max(0, min(self.prior_labels, self.window - real))
        if prior + real == 0:
            return self.prior_pi
        return (prior * self.prior_pi + sum(self._labels)) / (prior + real)

    def camera_model(self, gain_db):
        """Return the :class:`CameraModel` of the current laws (shares the CDF objects)."""
        return CameraModel(pi=self.pi, gain_db=gain_db, **self.laws)


class StampJoin:
    """
    Pair score samples with ground-truth labels of the same camera and capture stamp.

    Either side may arrive first. Up to ``max_pending`` capture stamps are remembered on each
    side; older ones are forgotten, and samples forgotten before their label came are counted
    in ``unlabelled``.

    :param max_pending: capture stamps kept per side.
    """

    def __init__(self, max_pending=256):
        self.max_pending = int(max_pending)
        self._labels = collections.OrderedDict()
        self._waiting = collections.OrderedDict()
        self.unlabelled = 0

    def add_labels(self, stamp, labels):
        """
        Record the labels of one capture instant.

        :param stamp: capture stamp key (any hashable, identical to the samples').
        :param labels: dict camera -> positive.
        :return: the samples now labelled, as ``(camera, source, score, positive)`` tuples.
        """
        self._labels[stamp] = dict(labels)
        while len(self._labels) > self.max_pending:
            self._labels.popitem(last=False)
        joined = []
        for camera, source, score in self._waiting.pop(stamp, ()):
            if camera in labels:
                joined.append((camera, source, score, bool(labels[camera])))
            else:
                self.unlabelled += 1
        return joined

    def add_sample(self, stamp, camera, source, score):
        """
        Record one score; return it labelled (a one-element list) when its label is known.

        :param stamp: capture stamp key.
        :param camera: camera name.
        :param source: one of :data:`SOURCES`.
        :param score: mean joint confidence.
        :return: list of ``(camera, source, score, positive)``, empty while the label is due.
        """
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
        labels = self._labels.get(stamp)
        if labels is not None:
            if camera in labels:
                return [(camera, source, score, bool(labels[camera]))]
            self.unlabelled += 1
            return []
        self._waiting.setdefault(stamp, []).append((camera, source, score))
        while len(self._waiting) > self.max_pending:
            self.unlabelled += len(self._waiting.popitem(last=False)[1])
        return []


class ScoreLaws:
    """
    The score laws of every camera, once per label source, each starting from the same prior.

    The allocator plans with one source and can judge its plan with another (the label-free
    laws against the ground-truth ones on a virtual rig).

    :param cameras: camera names.
    :param prior: camera name -> a fresh :class:`CameraScores` (the prior of that camera).
    :param sources: label source names.
    """

    def __init__(self, cameras, prior, sources):
        self.cameras = list(cameras)
        self.by_source = {s: {c: prior(c) for c in self.cameras} for s in sources}

    def add(self, source, samples):
        """Add ``(camera, 'device'|'server', score, positive)`` samples labelled by ``source``."""
        laws = self.by_source[source]
        for camera, kind, score, positive in samples:
            if camera in laws:
                laws[camera].add(kind, positive, score)

    def added(self, source):
        """Count the samples added so far to ``source``'s laws."""
        return sum(sum(s.added.values()) for s in self.by_source[source].values())

    def models(self, source, gains_db):
        """:class:`CameraModel` per camera of ``source``'s laws, with the given gains."""
        return [self.by_source[source][c].camera_model(g) for c, g in zip(self.cameras, gains_db)]
