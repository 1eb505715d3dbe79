# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Timing of the running graph: online calibration and a delay model that matches what it measures.

The paper's delay (19) is a mean over a synchronous instant with Table I constants; the graph
differs in ways that decide whether a plan meets its requirement: each camera owns its TDMA
slots and transmits in parallel with the others (a per-camera FIFO, see
:class:`mec_coop.coop.uplink.TdmaUplink`), the edge serves offloads of *all* instants one after
the other (a single-server queue, so a load above one image per service time builds a backlog),
and an instant is released when its last view is in or at the edge's deadline.

:class:`Calibration` keeps robust running statistics (windowed medians and quantiles) of what
the nodes report: camera model time, bytes per offload and per keypoint message, edge service
time per image, and the time from the last report to the published skeleton; samples older than
a horizon are forgotten (:meth:`Calibration.expire`), so the start-up does not stay in them.
:func:`simulate` replays the graph as a discrete-event model with those numbers for given
routing probabilities and uplink rates and returns delay quantiles; :func:`md1_wait` is the
closed-form M/D/1 waiting time it is checked against. :meth:`Calibration.params` maps the
measurements onto the paper model's constants, which the solvers search with.

Which frames go up as images is measured too: the score of every frame (the camera's
``confidence`` topic, whatever its route) and the share of the frames the thresholds keep on
the camera that still go up as audits; :meth:`Calibration.routed` hands them to the score
laws (:class:`~mec_coop.alloc.scores.CameraModel`), so the solvers and the replay route
candidate thresholds as the cameras will.
"""

from collections import deque, OrderedDict
from dataclasses import dataclass, replace
import math
from typing import Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike

from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.scores import CameraModel, EmpiricalCdf

# Period of the edge's release timer (nodes/edge_node.py).
RELEASE_POLL_S = 0.01
# Fewer samples than this and a quantity keeps its prior (the paper's or the user's constant).
MIN_SAMPLES = 5
# The quantile levels of the released delay a prediction carries (1%, 2%, ..., 99%): each
# carries a hundredth of the mass, so a pool of them misplaces at most 1% per plan.
QUANTILE_LEVELS = tuple(k / 100 for k in range(1, 100))


class RunningStat:
    """
    The newest ``window`` finite, non-negative samples of one quantity; medians on demand.

    Each sample keeps the time it was taken (``at``, any clock; untimed: the oldest), so
    :meth:`expire` can forget the start-up's samples or a load that has gone.
    """

    def __init__(self, window: int = 200) -> None:
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self._samples: deque = deque(maxlen=int(window))   # (at, value), oldest first
        self.rejected = 0

    def add(self, value: float, at: float = -math.inf) -> bool:
        """Keep ``value``, taken at ``at``; a NaN, infinite or negative one counts as rejected."""
        value = float(value)
        if not (math.isfinite(value) and value >= 0.0):
            self.rejected += 1
            return False
        self._samples.append((float(at), value))
        return True

    def expire(self, before: float) -> int:
        """Forget samples taken before ``before`` (the newest 5 stay); return how many."""
        dropped = 0
        while len(self._samples) > MIN_SAMPLES and self._samples[0][0] < before:
            self._samples.popleft()
            dropped += 1
        return dropped

    def __len__(self) -> int:
        return len(self._samples)

    def samples(self) -> np.ndarray:
        pairs = tuple(self._samples)   # one C-level copy: callbacks append while planners read
        return np.fromiter((v for _, v in pairs), dtype=float, count=len(pairs))

    def quantile(self, q: float, default: float) -> float:
        """Return quantile ``q`` of the window (``default`` below :data:`MIN_SAMPLES`)."""
        if len(self._samples) < MIN_SAMPLES:
            return float(default)
        return float(np.quantile(self.samples(), q))

    def mean(self, default: float) -> float:
        """Return the mean of the window (``default`` below :data:`MIN_SAMPLES`)."""
        if len(self._samples) < MIN_SAMPLES:
            return float(default)
        return float(np.mean(self.samples()))


@dataclass(frozen=True)
class GraphTiming:
    """
    What :func:`simulate` needs besides the plan; every time in seconds, sizes in bytes.

    ``device_s`` holds camera times, one row per observed capture instant and one column per
    camera (a replayed instant draws a whole row: cameras that share a CPU or a network are
    slow together, which independent draws would miss). ``edge_service_s`` is the edge's time
    per image, one value or observed samples that each offload draws from (the waiting in a
    queue grows with the service time's spread, ``E[S^2]``, which one median misses: the
    recorded trace's edge times span 0.14-0.67 s around a median of 0.375 s). The other
    quantities are per-camera medians or graph-wide constants. ``deadline_s`` is the
    edge's release deadline from capture (its ``sync_timeout_s``), ``None`` to wait for all.
    ``offload_extra_s`` (per camera) is how much later an offloaded frame leaves its camera
    than its keypoints would: the offload is encoded after the model ran (a region-wise
    1280x720 offload took about 0.1 s here), and ``device_s`` is measured on keypoint messages.
    ``empty_image_bytes`` (per camera; None: as ``image_bytes``) is the size of an image in
    which the camera found nobody: it goes up whole (at 8 cameras the median offload was
    124 KB, not the 15 KB of a region-wise one). ``edge_batch`` is the edge's ``batch_size``:
    the images of a batch complete together (:func:`_fifo`).
    """

    frame_rate_hz: float
    device_s: np.ndarray
    image_bytes: np.ndarray
    message_bytes: np.ndarray
    edge_service_s: ArrayLike
    overhead_s: float
    deadline_s: Optional[float] = None
    offload_extra_s: ArrayLike = 0.0
    empty_image_bytes: Optional[np.ndarray] = None
    edge_batch: int = 1


@dataclass(frozen=True)
class DelayPrediction:
    """Delay quantiles of the simulated graph (released: with the deadline; complete: without)."""

    p50_s: float
    p95_s: float
    complete_p50_s: float
    complete_p95_s: float
    late_fraction: float          # instants released by the deadline before all views were in
    edge_utilisation: float       # offered edge load: images per second x service time
    edge_wait_s: float            # mean time an offload waits at the edge before its service
    uplink_utilisation: np.ndarray  # per camera: airtime per second
    # Median time from capture to the edge's result of an offloaded view (NaN: no offload),
    # comparable with Calibration.offload_view_s: where the slow mode of the delay comes from.
    offload_view_p50_s: float = float('nan')
    # The released delay at QUANTILE_LEVELS: pooled over the plans of a run by pooled_median.
    released_quantiles_s: tuple = ()
    # Per camera, the share of its held images whose view the deadline released without.
    late_views: tuple = ()

    def quantile(self, q: float, complete: bool = False) -> float:
        """Return p50 or p95 (the two this model reports)."""
        table = {0.5: (self.p50_s, self.complete_p50_s), 0.95: (self.p95_s, self.complete_p95_s)}
        if q not in table:
            raise ValueError(f'delay quantile must be 0.5 or 0.95, got {q}')
        return table[q][int(complete)]


def pooled_median(quantile_rows: Sequence[Sequence[float]]) -> float:
    """
    Return the median of delay distributions at :data:`QUANTILE_LEVELS` pooled (NaN: none).

    One row per skeleton, the plan's in effect. The delay is bimodal (keypoints only, about
    0.1 s; an offloaded view, 0.3 s and more): the median of the plans' medians is one mode.
    """
    values = np.concatenate([np.asarray(r, dtype=float) for r in quantile_rows] or [np.empty(0)])
    return float(np.median(values)) if values.size else math.nan


def md1_wait(arrival_rate: float, service_s: float) -> float:
    """Mean M/D/1 waiting time ``rho D / (2 (1 - rho))``; infinite at ``rho >= 1``."""
    rho = arrival_rate * service_s
    return math.inf if rho >= 1.0 else rho * service_s / (2.0 * (1.0 - rho))


def _fifo(arrivals: np.ndarray, service: np.ndarray, batch: int = 1) -> np.ndarray:
    """
    Return completion times of jobs served in arrival order (Lindley recursion).

    With ``batch`` > 1 the server takes up to that many jobs waiting when it frees (the edge's
    ``batch_size``); they complete together, after the sum of their service times.
    """
    order = np.argsort(arrivals, kind='stable')
    done = np.empty_like(arrivals)
    free, first = -math.inf, 0
    while first < order.size:
        start = max(free, arrivals[order[first]])
        last = first + 1
        while last < min(order.size, first + batch) and arrivals[order[last]] <= start:
            last += 1
        jobs = order[first:last]
        free = start + float(service[jobs].sum())
        done[jobs] = free
        first = last
    return done


def simulate(timing: GraphTiming, p_uncertain: ArrayLike, p_positive: ArrayLike,
             rates_bps: ArrayLike, instants: int = 1500, seed: int = 0,
             p_held: Optional[ArrayLike] = None,
             p_empty: Optional[ArrayLike] = None) -> DelayPrediction:
    """
    Replay ``instants`` capture instants of the graph and return its delay quantiles.

    Per instant every camera draws its route (offload with ``P^U_n``, keypoints with
    ``P^P_n``, else a drop notice, which is a keypoint-sized message) and a model time from its
    samples; its messages queue on its own uplink (rate ``rates_bps[n]`` = ``tau_n R_n``),
    offloads then queue at the edge in arrival order (all cameras and instants), and the
    instant is complete when its last report is in. The first tenth of the instants is left
    out as warm-up.

    :param timing: :class:`GraphTiming`.
    :param p_uncertain: ``P^U_n`` per camera (eq. (11)).
    :param p_positive: ``P^P_n`` per camera (eq. (13)).
    :param rates_bps: uplink rate per camera with its applied share (``inf``: no emulated link).
    :param instants: instants to replay.
    :param seed: random seed (the same seed gives the same prediction).
    :param p_held: per camera, the share of frames that are images the instant waits for
        (:func:`~mec_coop.alloc.model.held_probability`, at most ``p_uncertain``); the other
        images (audits of kept frames) complete their view when they arrive, and load the edge
        all the same. None: every image is waited for.
    :param p_empty: per camera, the share of frames that are images in which the camera found
        nobody (:func:`~mec_coop.alloc.model.empty_probability`, at most ``p_held``): they take
        ``timing.empty_image_bytes``. None: none.
    :return: :class:`DelayPrediction`.
    """
    p_u, p_p = np.asarray(p_uncertain, float), np.asarray(p_positive, float)
    rates = np.asarray(rates_bps, float)
    cams = p_u.size
    if not (p_p.size == rates.size == timing.device_s.shape[1] == cams):
        raise ValueError('p_uncertain, p_positive, rates_bps and timing.device_s need one '
                         'entry per camera')
    if np.any(rates <= 0.0):
        raise ValueError('uplink rates must be positive')
    rng = np.random.default_rng(seed)
    period = 1.0 / timing.frame_rate_hz
    capture = np.arange(instants) * period
    u = rng.random((instants, cams))
    offload = u < p_u
    held = offload if p_held is None else u < np.asarray(p_held, float)
    device = timing.device_s[rng.integers(len(timing.device_s), size=instants)]
    size = np.where(offload, timing.image_bytes, timing.message_bytes)
    if p_empty is not None and timing.empty_image_bytes is not None:
        size = np.where(u < np.asarray(p_empty, float), timing.empty_image_bytes, size)
    airtime = 8.0 * size / rates
    sent = np.empty((instants, cams))
    # The camera times are measured from capture to the camera's message, so they already
    # hold its waiting (a camera keeps only its newest frame: no backlog builds); queueing
    # them again made a camera slower than the frame period diverge (150 s predicted where
    # 0.5 s was measured). Then each camera's own uplink slots: a FIFO.
    leave = capture[:, None] + device + offload * np.broadcast_to(
        np.asarray(timing.offload_extra_s, dtype=float), (cams,))
    for n in range(cams):
        sent[:, n] = _fifo(leave[:, n], airtime[:, n])
    final, edge_done = sent.copy(), sent.copy()
    wait = 0.0
    services = np.atleast_1d(np.asarray(timing.edge_service_s, dtype=float))
    if offload.any():
        service = services[rng.integers(services.size, size=int(offload.sum()))]
        edge_done[offload] = _fifo(sent[offload], service, timing.edge_batch)
        final[held] = edge_done[held]
        wait = float(np.mean(edge_done[offload] - sent[offload] - service))
    complete = final.max(axis=1) - capture
    deadline = math.inf if timing.deadline_s is None else timing.deadline_s
    released = np.minimum(complete, deadline)
    skip = instants // 10
    complete, released = complete[skip:] + timing.overhead_s, released[skip:] + timing.overhead_s
    over = (final - capture[:, None])[skip:] > deadline
    waited = held[skip:]
    airtime_per_s = timing.frame_rate_hz * 8.0 * (
        p_u * timing.image_bytes + (1.0 - p_u) * timing.message_bytes) / rates
    return DelayPrediction(
        p50_s=float(np.median(released)), p95_s=float(np.quantile(released, 0.95)),
        complete_p50_s=float(np.median(complete)),
        complete_p95_s=float(np.quantile(complete, 0.95)),
        late_fraction=float(np.mean(over.any(axis=1))),
        edge_utilisation=float(timing.frame_rate_hz * p_u.sum() * services.mean()),
        edge_wait_s=wait,
        uplink_utilisation=airtime_per_s,
        offload_view_p50_s=float(np.median((edge_done - capture[:, None])[skip:][offload[skip:]]))
        if offload[skip:].any() else float('nan'),
        released_quantiles_s=tuple(float(v) for v in np.quantile(released, QUANTILE_LEVELS)),
        late_views=tuple(float(v) for v in (waited & over).sum(axis=0)
                         / np.maximum(waited.sum(axis=0), 1)))


class Calibration:
    """
    Robust running statistics of the graph's timings, fed by what the nodes report.

    :param cameras: camera names (the order of :meth:`timing`'s arrays).
    :param window: samples kept per quantity.
    """

    def __init__(self, cameras: Sequence[str], window: int = 200) -> None:
        self.cameras = list(cameras)
        self.device_s = {c: RunningStat(window) for c in self.cameras}
        self._instants: OrderedDict = OrderedDict()   # capture stamp -> {camera: seconds}
        self.window = int(window)
        self.image_bytes = {c: RunningStat(window) for c in self.cameras}
        # Images in which the camera found nobody (score 0): whole frames.
        self.empty_image_bytes = {c: RunningStat(window) for c in self.cameras}
        self.message_bytes = {c: RunningStat(window) for c in self.cameras}
        self.edge_service_s = RunningStat(window)
        self.overhead_s = RunningStat(window)
        self.delay_s = RunningStat(window)
        # Capture to the edge's result of each offloaded view (checks the replay's slow mode).
        self.offload_view_s = RunningStat(window)
        # The edge's batch_size, as its diagnostics say (1 until they do).
        self.edge_batch = 1
        # Per camera: median time from capture until an offload left the camera, as the edge
        # measured it (NaN until it said); see GraphTiming.offload_extra_s.
        self.offload_camera_s = {c: math.nan for c in self.cameras}
        self.frame_scores = {c: RunningStat(window) for c in self.cameras}
        # 1 for a random audit, 0 for a frame the thresholds did not send up as an image.
        self.audits = {c: RunningStat(window) for c in self.cameras}
        # 1 for a search for people (a dropped frame sent up whole), 0 for a drop notice.
        self.searches = {c: RunningStat(window) for c in self.cameras}

    def routed(self, models: Sequence[CameraModel]) -> list[CameraModel]:
        """
        Return ``models`` (one per camera, in order) with the measured routes.

        A camera gets its window of frame scores once it has :data:`MIN_SAMPLES` of them, its
        share of audits among the frames its thresholds kept, and of searches among the dropped
        frames no audit took (0 until measured).
        """
        out = []
        for cam, model in zip(self.cameras, models):
            scores = self.frame_scores[cam]
            out.append(replace(
                model, audit_share=self.audits[cam].mean(0.0),
                search_share=self.searches[cam].mean(0.0),
                frame_scores=EmpiricalCdf(scores.samples()) if len(scores) >= MIN_SAMPLES
                else model.frame_scores))
        return out

    def add_device(self, camera: str, stamp: float, seconds: float) -> None:
        """Record a camera's time from capture to its message for the instant ``stamp``."""
        if self.device_s[camera].add(seconds, at=stamp):
            self._instants.setdefault(stamp, {})[camera] = float(seconds)
            while len(self._instants) > self.window:
                self._instants.popitem(last=False)

    def expire(self, now: float, horizon_s: float) -> int:
        """
        Forget timing samples taken before ``now - horizon_s``; return how many went.

        Each quantity keeps its newest :data:`MIN_SAMPLES` (a rare one still has a value). A
        200-sample window held the start-up's for 100 s: 5% of the replay's rows, its p95.
        Frame scores and audits are not timings and keep their windows.
        """
        before = now - horizon_s
        stats = [*self.device_s.values(), *self.image_bytes.values(),
                 *self.empty_image_bytes.values(), *self.message_bytes.values(),
                 self.edge_service_s, self.overhead_s, self.delay_s, self.offload_view_s]
        dropped = sum(stat.expire(before) for stat in stats)
        while len(self._instants) > MIN_SAMPLES and next(iter(self._instants)) < before:
            self._instants.popitem(last=False)
        return dropped

    def device_rows(self, prior_s: float) -> np.ndarray:
        """
        Return camera times per instant, ``(instants, cameras)``.

        A camera missing from an instant (it offloaded, or its message was lost) takes its
        median there; with fewer than :data:`MIN_SAMPLES` instants a single row of ``prior_s``.
        """
        if len(self._instants) < MIN_SAMPLES:
            return np.full((1, len(self.cameras)), float(prior_s))
        medians = [self.device_s[c].quantile(0.5, prior_s) for c in self.cameras]
        return np.array([[row.get(c, m) for c, m in zip(self.cameras, medians)]
                         for row in self._instants.values()])

    def ready(self) -> bool:
        """Tell whether camera and edge times have enough samples to replace the priors."""
        return (all(len(s) >= MIN_SAMPLES for s in self.device_s.values())
                and len(self.edge_service_s) >= MIN_SAMPLES)

    def counts(self) -> dict:
        """Count the samples per quantity (for diagnostics)."""
        return {'device': min(len(s) for s in self.device_s.values()),
                'offload_bytes': min(len(s) for s in self.image_bytes.values()),
                'edge_service': len(self.edge_service_s), 'overhead': len(self.overhead_s),
                'delay': len(self.delay_s), 'offload_view': len(self.offload_view_s)}

    def measured_p50(self) -> dict:
        """Measured medians beside the prediction: delay, offloaded view, offloads' extra."""
        return {'measured_delay_p50_s': round(self.delay_s.quantile(0.5, math.nan), 4),
                'measured_offload_view_p50_s': round(
                    self.offload_view_s.quantile(0.5, math.nan), 4),
                'offload_extra_s': [round(float(x), 4) for x in self.offload_extra(math.nan)]}

    def offload_extra(self, prior_s: float) -> np.ndarray:
        """
        Per camera, how much later an offload leaves the camera than its keypoints would.

        The edge's measured median time on the camera of offloads less the camera's median
        time to its keypoint message; 0 where either is unknown or the difference is negative.
        """
        extra = np.array([self.offload_camera_s[c] - self.device_s[c].quantile(0.5, prior_s)
                          for c in self.cameras])
        return np.clip(np.nan_to_num(extra, nan=0.0), 0.0, None)

    def params(self, prior: SystemParams) -> SystemParams:
        """
        Return the paper model's constants with the medians measured so far.

        ``T_d^I`` is the slowest camera's median (the instant waits for its last view),
        ``t_s`` the edge's median time per image, ``S_I`` / ``S_M`` the largest per-camera
        median sizes, ``T_s^p`` the median time from the last report to the skeleton; the
        other camera-side processing is inside the measured model time, so ``T_d^p`` is 0
        once that is measured.
        """
        def worst(stats: dict, default: float) -> float:
            return max(s.quantile(0.5, default) for s in stats.values())

        device = worst(self.device_s, prior.device_inference_s)
        return replace(
            prior, device_inference_s=device,
            device_processing_s=0.0 if device != prior.device_inference_s
            else prior.device_processing_s,
            server_inference_s=self.edge_service_s.quantile(0.5, prior.server_inference_s),
            image_bytes=worst(self.image_bytes, prior.image_bytes),
            message_bytes=worst(self.message_bytes, prior.message_bytes),
            server_processing_s=self.overhead_s.quantile(0.5, prior.server_processing_s))

    def timing(self, prior: SystemParams, deadline_s: Optional[float] = None) -> GraphTiming:
        """Return the :class:`GraphTiming` of the measurements (priors where samples miss)."""
        params = self.params(prior)
        device = self.device_rows(params.device_inference_s + params.device_processing_s)
        return GraphTiming(
            frame_rate_hz=params.frame_rate_hz, device_s=device,
            image_bytes=np.array([self.image_bytes[c].quantile(0.5, params.image_bytes)
                                  for c in self.cameras]),
            message_bytes=np.array([self.message_bytes[c].quantile(0.5, params.message_bytes)
                                    for c in self.cameras]),
            edge_service_s=self.edge_service_s.samples()
            if len(self.edge_service_s) >= MIN_SAMPLES else params.server_inference_s,
            # The edge checks for instants to release every 10 ms: half of that on average.
            overhead_s=params.server_processing_s + params.bs_to_server_s + RELEASE_POLL_S / 2,
            deadline_s=deadline_s,
            offload_extra_s=self.offload_extra(params.device_inference_s),
            edge_batch=self.edge_batch,
            empty_image_bytes=np.array([self.empty_image_bytes[c].quantile(
                0.5, self.image_bytes[c].quantile(0.5, params.image_bytes))
                for c in self.cameras]))
