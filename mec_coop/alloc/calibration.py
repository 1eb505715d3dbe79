# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Online calibration of the delay model: what the running graph measures, as the replay needs it.

:class:`Calibration` keeps robust running statistics (windowed medians and quantiles) of what
the nodes report: camera model time, bytes per offload and per keypoint message, edge service
time per image, and the time from the last report to the published skeleton; samples older than
a horizon are forgotten (:meth:`Calibration.expire`), so the start-up does not stay in them.
:meth:`Calibration.timing` hands them to the replay (:func:`mec_coop.alloc.timing.simulate`);
:meth:`Calibration.params` maps them onto the paper model's constants, which the solvers
search with.

Which frames go up as images is measured too: the score of every frame (the camera's
``confidence`` topic, whatever its route) and the share of the frames the thresholds keep on
the camera that still go up as audits; :meth:`Calibration.routed` hands them to the score
laws (:class:`~mec_coop.alloc.scores.CameraModel`), so the solvers and the replay route
candidate thresholds as the cameras will.
"""

from collections import OrderedDict
from dataclasses import replace
import math
from typing import Optional, Sequence

import numpy as np

from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.scores import CameraModel, EmpiricalCdf
from mec_coop.alloc.timing import GraphTiming, MIN_SAMPLES, RELEASE_POLL_S, RunningStat


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
        # Capture to the edge's result of each offloaded view (checks the replay's slow mode),
        # and the same less the replay's median for the plan in effect (predicted_view_s, set
        # as a plan is applied; NaN: none yet): see offload_residual.
        self.offload_view_s = RunningStat(window)
        self.offload_view_gap_s = RunningStat(window, signed=True)
        self.predicted_view_s = math.nan
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

        A camera gets its window of frame scores (the horizon's, :meth:`expire`) once it has
        :data:`MIN_SAMPLES` of them, its share of audits among the frames its thresholds
        kept, and of searches among the dropped frames no audit took (0 until measured).
        """
        out = []
        for cam, model in zip(self.cameras, models):
            scores = self.frame_scores[cam]
            out.append(replace(
                model, audit_share=self.audits[cam].mean(0.0),
                search_share=self.searches[cam].mean(0.0),
                frame_scores=EmpiricalCdf(scores.samples())
                if len(scores) >= MIN_SAMPLES else model.frame_scores))
        return out

    def add_device(self, camera: str, stamp: float, seconds: float) -> None:
        """Record a camera's time from capture to its message for the instant ``stamp``."""
        if self.device_s[camera].add(seconds, at=stamp):
            self._instants.setdefault(stamp, {})[camera] = float(seconds)
            while len(self._instants) > self.window:
                self._instants.popitem(last=False)

    def expect_offload_view(self, seconds: float) -> None:
        """
        Set the replayed offloaded-view median (no residual) of the plan just applied.

        Ignored until :meth:`ready`: a plan made on the priors predicts nothing measured, and
        the start-up's views are slow (models warming up). At 8 cameras the start-up's gap
        (+0.3 s), held for the horizon, pushed the plans to the cameras alone for 30 s.
        """
        self.predicted_view_s = float(seconds) if self.ready() else math.nan

    def add_offload_view(self, seconds: float, now: float) -> None:
        """Record an offloaded view's time from capture to the edge's result."""
        if self.offload_view_s.add(seconds, now) and math.isfinite(self.predicted_view_s):
            self.offload_view_gap_s.add(seconds - self.predicted_view_s, now)

    def offload_residual(self) -> float:
        """
        Return the median measured less predicted offloaded view (0 below MIN_SAMPLES).

        The replay times an offload by its camera, its uplink queue and the edge's queue. At
        8 cameras on two cores the edge part falls short: fed with a run's own measured inputs
        (``benchmarks/delay_model.py``) the replay matched the offloads' arrival at the edge
        (0.470 s against 0.475 s measured) but put the edge's result at 0.708 s against 0.903 s,
        and the allocator's predictions were 0.12-0.38 s short. Measured against the plans' own
        predictions, the shortfall is added to the replay's offloads
        (:attr:`GraphTiming.offload_residual_s`).
        """
        return self.offload_view_gap_s.quantile(0.5, 0.0)

    def expire(self, now: float, horizon_s: float) -> int:
        """
        Forget samples taken before ``now - horizon_s``; return how many went.

        Each quantity keeps its newest :data:`MIN_SAMPLES` (a rare one still has a value). A
        200-sample window held the start-up's timings for 100 s: 5% of the replay's rows, its
        p95. The frame scores and the shares of audits and searches go too: they are the
        routes of the plan in place and of the cameras' tracking (a long start-up's scores,
        before the crops locked on, made offloads of 0.73-1.0 against measured 0.18-0.82 in a
        90 s run, and a camera without a crop searches), and both the threshold plan and the
        uplink plan route with them.
        """
        before = now - horizon_s
        stats = [*self.device_s.values(), *self.image_bytes.values(),
                 *self.empty_image_bytes.values(), *self.message_bytes.values(),
                 self.edge_service_s, self.overhead_s, self.delay_s, self.offload_view_s,
                 self.offload_view_gap_s, *self.frame_scores.values(), *self.audits.values(),
                 *self.searches.values()]
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
                'offload_view_residual_s': round(self.offload_residual(), 4),
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

    def timing(self, prior: SystemParams, deadline_s: Optional[float] = None,
               residual: bool = True) -> GraphTiming:
        """
        Return the :class:`GraphTiming` of the measurements (priors where samples miss).

        ``residual``: with the offload path's measured shortfall (:meth:`offload_residual`).
        """
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
            offload_residual_s=self.offload_residual() if residual else 0.0,
            empty_image_bytes=np.array([self.empty_image_bytes[c].quantile(
                0.5, self.image_bytes[c].quantile(0.5, params.image_bytes))
                for c in self.cameras]))
