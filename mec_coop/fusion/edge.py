# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The edge's brain: per-camera reports in, fused 3D skeletons and verdicts out (no ROS).

:class:`EdgeFusion` owns what the edge node used to do between its subscriptions and its
publishers: grouping reports of one capture instant (:class:`~mec_coop.fusion.sync.
ViewSynchronizer`), telling late, out-of-order and duplicate reports apart, noticing cameras that
stop (and start again) publishing, choosing the views that can be triangulated (a report with
keypoints and a calibrated camera), the ``min_views`` rule, triangulation and the latency
breakdown of the published skeleton. The node only converts messages into :class:`Report` and
:class:`FusedSkeleton` back into messages, so every rule here is tested without DDS
(``test/test_fusion.py``).

It is called from two threads (the executor and the edge model's worker), hence the lock.
"""

import collections
from dataclasses import dataclass, field, replace
import threading
import time
from typing import Callable, Iterable, Optional

import numpy as np

from mec_coop.coop.guard import check_keypoints, Rejected
from mec_coop.fusion.association import AssociationSettings
from mec_coop.fusion.feedback import (CameraPrior, FeedbackSettings, frame_period,
                                      PersonFeedback)
from mec_coop.fusion.people import PeopleFusion
from mec_coop.fusion.smoothing import SmoothedSkeleton
from mec_coop.fusion.sync import Verdict, ViewSynchronizer
from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.human_checks import mirrored
from mec_coop.geometry.skeleton import COCO_FLIP_INDEX
from mec_coop.geometry.triangulation import triangulate_cameras, Triangulation

# Report sources: the camera's keypoints, the edge model's result of an offloaded frame, or a
# frame without keypoints (dropped by the camera, or rejected by theta_server at the edge).
SOURCES = ('camera', 'edge', 'dropped')
FLIP = np.array(COCO_FLIP_INDEX)


@dataclass(frozen=True)
class Report:
    """One camera's contribution to a capture instant, with the times it spent on the way."""

    pixels: Optional[np.ndarray]   # (J, 2) pixels in the camera's raw image, None: no keypoints
    weights: Optional[np.ndarray]  # (J,) keypoint confidences
    source: str
    device_s: float = 0.0          # camera model inference
    airtime_s: float = 0.0         # uplink airtime
    queueing_s: float = 0.0        # uplink queueing
    edge_s: float = 0.0            # edge model inference (offloaded frames)
    # The camera's keypoints of a frame it offloaded: used only if the edge's result is late.
    provisional: bool = False
    # Every person of the view, (N, J, 2) and (N, J), for the association (None: only ``pixels``)
    people: Optional[np.ndarray] = None
    people_weights: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {self.source!r}')
        if (self.pixels is None) != (self.weights is None):
            raise ValueError('pixels and weights go together')
        if (self.people is None) != (self.people_weights is None):
            raise ValueError('people and people_weights go together')
        if self.people is not None and self.people_weights is not None:
            shapes = np.asarray(self.people).shape, np.asarray(self.people_weights).shape
            if len(shapes[0]) != 3 or shapes[0][2] != 2 or shapes[1] != shapes[0][:2]:
                raise ValueError(f'people must be (N, J, 2) and people_weights (N, J), got '
                                 f'{shapes[0]} and {shapes[1]}')

    def all_people(self) -> tuple[np.ndarray, np.ndarray]:
        """``(N, J, 2)`` pixels and ``(N, J)`` weights of every person in the view."""
        if self.people is not None and self.people_weights is not None:
            return self.people, self.people_weights
        if self.pixels is None or self.weights is None:
            return np.zeros((0, 17, 2)), np.zeros((0, 17))
        return self.pixels[None], self.weights[None]


@dataclass(frozen=True)
class Latency:
    """Latency breakdown of a skeleton: the slowest contributing view per stage (seconds)."""

    device_inference_s: float
    airtime_s: float
    queueing_s: float
    edge_inference_s: float
    triangulation_s: float
    end_to_end_s: float


@dataclass
class FusedSkeleton:
    """A triangulated capture instant, ready to publish."""

    stamp: float                   # earliest capture stamp of the views used
    triangulation: Triangulation   # (J, ...) arrays of one instant
    camera_ids: list[str]
    capture_stamps: list[float]
    latency: Latency
    # What to publish: the track's filtered skeleton, or None to publish the triangulation.
    filtered: Optional[SmoothedSkeleton] = None
    track_id: int = 0                # 0: no identities (the single-person edge)
    person_indices: list[int] = field(default_factory=list)  # per camera_ids; empty: unknown

    @property
    def points(self) -> np.ndarray:
        """``(J, 3)`` joints to publish, NaN where not valid."""
        return self.triangulation.points if self.filtered is None else self.filtered.points

    @property
    def valid(self) -> np.ndarray:
        """``(J,)`` joints to publish."""
        return self.triangulation.valid if self.filtered is None else self.filtered.valid

    @property
    def predicted(self) -> np.ndarray:
        """``(J,)`` joints filled from the track's motion model, not measured at this instant."""
        return np.zeros_like(self.valid) if self.filtered is None else self.filtered.predicted


@dataclass
class FusionSettings:
    """The edge's fusion parameters (the node's ``max_gap_s`` ... ``outlier_threshold_px``)."""

    max_gap_s: float = 0.05
    sync_timeout_s: float = 0.45       # while tracking: the delay budget, from capture
    acquire_timeout_s: float = 1.5     # while no one is tracked: offloads may bootstrap the track
    camera_timeout_s: float = 3.0
    # Reports stamped further ahead of the edge's clock are refused (clock offset allowance).
    future_tolerance_s: float = 1.0
    # A camera with nothing accepted this long may go back in time (its clock jumped).
    reorder_after_s: float = 2.0
    min_views: int = 2
    outlier_threshold_px: float = 30.0
    # A joint whose position is this uncertain (std, m) is flagged. Looser than the core's
    # default: keypoints of small people at imgsz 320 put a good 2-view joint at 5-10 cm.
    max_joint_std_m: float = 0.12
    triangulation: str = 'robust'    # or 'greedy' / 'dlt' (the paper's literal eqs. (1)-(2))
    feedback: Optional[FeedbackSettings] = field(default_factory=FeedbackSettings)
    # Several people (fusion/people.py); False: each view's selected person, one skeleton.
    association: bool = False
    # The association's own settings; its min_views, triangulation, outlier_threshold_px and
    # max_joint_std_m are replaced by the values above, which own them.
    people: AssociationSettings = field(default_factory=AssociationSettings)

    def association_settings(self) -> AssociationSettings:
        """Return the association's settings (the shared values have their owner here)."""
        return replace(
            self.people, min_views=self.min_views, triangulation=self.triangulation,
            outlier_threshold_px=self.outlier_threshold_px, max_joint_std_m=self.max_joint_std_m)


@dataclass
class Released:
    """What :meth:`EdgeFusion.poll` produced: skeletons and camera liveness changes."""

    skeletons: list[FusedSkeleton] = field(default_factory=list)
    # With association: (instant's capture stamp, its people, lowest id first) of every released
    # instant, also those without anyone; ``skeletons`` has the first person of each.
    people: list[tuple[float, list[FusedSkeleton]]] = field(default_factory=list)
    went_silent: list[str] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    # camera -> its crops for the next capture times
    priors: dict[str, list[CameraPrior]] = field(default_factory=dict)


Calibration = Callable[[str], Optional[PinholeCamera]]


class EdgeFusion:
    """
    Fuse the reports of ``cameras`` into skeletons; see the module docstring.

    :param calibration: ``camera -> PinholeCamera`` or None while the camera is not calibrated
        (its views are then skipped and counted as ``no_calibration``).
    :param clock: monotonic seconds, for liveness and sync timeouts (injectable for tests).
    """

    def __init__(self, cameras: Iterable[str], settings: FusionSettings,
                 calibration: Calibration,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cameras = list(cameras)
        self.settings = settings
        self._calibration = calibration
        self._clock = clock
        self._lock = threading.Lock()
        self._sync = ViewSynchronizer(self.cameras, settings.max_gap_s, settings.sync_timeout_s,
                                      settings.reorder_after_s)
        self._last_report: dict[str, float] = {}
        self.silent: set[str] = set()
        self._came_back: list[str] = []
        self._ready: list = []
        self.counts: dict[str, collections.Counter] = {
            cam: collections.Counter() for cam in self.cameras}
        self.totals: collections.Counter = collections.Counter()
        self.person = PersonFeedback(settings.feedback) if settings.feedback else None
        self.people = PeopleFusion(settings.association_settings(), settings.feedback) \
            if settings.association else None
        self._recent_stamps: collections.deque[float] = collections.deque(maxlen=9)

    @property
    def sync_stats(self) -> dict[str, int]:
        """Released groups (complete, timed out) and dropped reports by cause."""
        return dict(vars(self._sync.stats))

    def configure(self, settings: FusionSettings) -> None:
        """Apply new settings; open instants keep the grouping they were opened with."""
        with self._lock:
            if settings.feedback != self.settings.feedback:
                self.person = PersonFeedback(settings.feedback) if settings.feedback else None
            if not settings.association:
                self.people = None
            elif self.people is None or settings.feedback != self.settings.feedback:
                self.people = PeopleFusion(settings.association_settings(), settings.feedback)
            else:  # tracks and ids survive a change of the triangulation settings
                self.people.associator.settings = settings.association_settings()
            self.settings = settings
            self._sync.max_gap_s = settings.max_gap_s
            self._sync.timeout_s = settings.sync_timeout_s
            self._sync.reorder_after_s = settings.reorder_after_s

    def add(self, camera: str, stamp: float, report: Report,
            stamp_now: Optional[float] = None) -> Verdict:
        """
        Add one report with capture ``stamp`` (seconds); return what became of it.

        :param stamp_now: the current time on the capture clock: the instant's sync timeout
            then counts from its capture (the delay budget), else from this report's arrival;
            reports stamped more than ``future_tolerance_s`` ahead of it are refused (FUTURE).
        :raises Rejected: keypoints with confidences outside [0, 1] or non-finite values
            (counted under the cause); keypoints outside the image only lose their weight.
        """
        if camera not in self.counts:
            raise KeyError(f'unknown camera {camera!r}; expected one of {self.cameras}')
        if not np.isfinite(stamp):
            raise ValueError(f'capture stamp of {camera} must be finite, got {stamp}')
        # A refused report does not count as a sign of life: a camera sending only those is
        # soon not waited for.
        if stamp_now is not None and stamp - stamp_now > self.settings.future_tolerance_s:
            self.counts[camera][Verdict.FUTURE.value] += 1
            return Verdict.FUTURE
        report = self._checked(camera, report)
        now = self._clock()
        with self._lock:
            self._last_report[camera] = now
            if camera in self.silent:
                self.silent.discard(camera)
                self._sync.set_cameras(set(self.cameras) - self.silent)
                self._came_back.append(camera)
            age = 0.0 if stamp_now is None else stamp_now - stamp
            verdict, released = self._sync.add(camera, stamp, report, now, age,
                                               report.provisional)
            self._ready.extend(released)
            self.counts[camera][verdict.value] += 1
        return verdict

    def _checked(self, camera: str, report: Report) -> Report:
        """Validate the report's keypoints (the selected person and every person of the view)."""
        if report.pixels is None or report.weights is None:
            return report
        model = self._calibration(camera)
        size = (model.width, model.height) if model else None
        try:
            weights, outside = check_keypoints(report.pixels, report.weights, size)
            pairs = () if report.people is None or report.people_weights is None else zip(
                report.people, report.people_weights)
            people = [check_keypoints(p, w, size) for p, w in pairs]
        except Rejected as exc:
            self.counts[camera][exc.cause] += 1
            raise
        if not outside and not any(n for _, n in people):
            return report
        self.counts[camera]['outside_image'] += outside
        changes: dict = {'weights': weights}
        if people:
            changes['people_weights'] = np.array([w for w, _ in people])
        return replace(report, **changes)

    def poll(self, stamp_now: float) -> Released:
        """
        Release due instants and triangulate them.

        :param stamp_now: the current time on the capture stamps' clock, for the end-to-end
            delay.
        """
        now = self._clock()
        out = Released()
        with self._lock:
            timeout = self.settings.camera_timeout_s
            # A camera that never reports is silent camera_timeout_s after the first poll (the
            # node's activation), like one that stopped.
            gone = {cam for cam in self.cameras
                    if now - self._last_report.setdefault(cam, now) > timeout} - self.silent
            if gone:
                self.silent |= gone
                self._sync.set_cameras(set(self.cameras) - self.silent)
            out.went_silent = sorted(gone)
            out.came_back, self._came_back = self._came_back, []
            # Waiting longer while no one is tracked lets the edge model's results of offloaded
            # frames (slower than the budget on a CPU) start the track that feeds the crops.
            tracking = (self.people.tracking(stamp_now) if self.people is not None else
                        self.person is not None and self.person.tracking(stamp_now))
            self._sync.timeout_s = self.settings.sync_timeout_s if tracking else max(
                self.settings.sync_timeout_s, self.settings.acquire_timeout_s)
            groups = self._ready + self._sync.poll(now)
            self._ready = []
            settings = self.settings
        for group in groups:
            if self.people is not None:
                people = self._fuse_people(group.reports, settings, stamp_now)
                out.people.append((group.anchor, people))
                out.skeletons.extend(people[:1])
                continue
            skeleton = self._fuse(group.reports, settings, stamp_now)
            if skeleton is not None:
                out.skeletons.append(skeleton)
        if groups and self.people is not None:
            out.priors = self._people_priors(max(g.anchor for g in groups))
        elif groups and self.person is not None:
            out.priors = self._feedback(out.skeletons, max(g.anchor for g in groups))
        return out

    def _people_priors(self, newest: float) -> dict[str, list[CameraPrior]]:
        """Every track's crops in each camera for its next two frames."""
        assert self.people is not None
        self._recent_stamps.append(newest)
        period = frame_period(list(self._recent_stamps), default=0.5)
        priors = {}
        for cam in self.cameras:
            camera = self._calibration(cam) if cam not in self.silent else None
            found = self.people.priors(camera, [newest + period, newest + 2 * period]) \
                if camera is not None else []
            if found:
                priors[cam] = found
        return priors

    def _feedback(self, skeletons: list[FusedSkeleton],
                  newest: float) -> dict[str, list[CameraPrior]]:
        """
        Filter the skeletons through the track; place each camera's crops for its next frames.

        Also after an instant without a skeleton (too few views): the track still predicts
        (within its horizon), so a camera that lost the person is told where to look again
        instead of falling back to the full frame, where a small person is easily missed.
        """
        assert self.person is not None
        for skeleton in skeletons:
            tri = skeleton.triangulation
            skeleton.filtered = self.person.update(skeleton.stamp, tri.points, tri.valid)
        self._recent_stamps.append(newest)
        period = frame_period(list(self._recent_stamps), default=0.5)
        priors = {}
        for cam in self.cameras:
            camera = self._calibration(cam) if cam not in self.silent else None
            # Two frames ahead: the next frame may be captured before this prior arrives.
            ahead = [self.person.roi(camera, newest + k * period) for k in (1, 2)] \
                if camera is not None else []
            if any(ahead):
                priors[cam] = [p for p in ahead if p is not None]
        return priors

    def _fuse_people(self, reports: dict, settings: FusionSettings,
                     stamp_now: float) -> list[FusedSkeleton]:
        assert self.people is not None
        self.totals['instants'] += 1
        views = self._views(reports)
        if len(views) < settings.min_views:
            self.totals['too_few_views'] += 1
            return []
        people = self.people.fuse(views, lambda used, tri, start: self._make(
            used, tri, start, stamp_now))
        self.totals['skeletons'] += len(people)
        self.totals['instants_with_people'] += bool(people)
        # Births, deaths and released detections go to /diagnostics with the totals; the
        # people's counts are running totals already (Counter.update would add them up again).
        for key, value in self.people.counts.items():
            self.totals[f'people_{key}'] = value
        return people

    def _views(self, reports: dict) -> list:
        """``(camera, stamp, report, PinholeCamera)`` of the reports with keypoints."""
        views = []
        for cam, (stamp, report) in sorted(reports.items()):
            if report.pixels is None:
                continue
            camera = self._calibration(cam)
            if camera is None:
                self.counts[cam]['no_calibration'] += 1
                continue
            views.append((cam, stamp, report, camera))
            if report.provisional:  # the edge model's result of this offload came too late
                self.counts[cam]['offload_late_camera_keypoints_used'] += 1
        return views

    def _unmirrored(self, views: list) -> list:
        """Relabel the views that the track shows mirrored (``human_checks.mirrored``)."""
        if self.person is None:
            return views
        track, horizon = self.person.track, self.person.settings.max_horizon_s
        out = []
        for cam, stamp, report, camera in views:
            # An instant older than the track's last update cannot be predicted: left as it is.
            if self.person.tracking(stamp) and stamp >= track.stamp and mirrored(
                    report.pixels, report.weights,
                    track.predict_keypoints_2d(camera, stamp, horizon)[0]):
                report = replace(report, pixels=report.pixels[FLIP],
                                 weights=report.weights[FLIP])
                self.counts[cam]['mirrored_relabelled'] += 1
            out.append((cam, stamp, report, camera))
        return out

    def _fuse(self, reports: dict, settings: FusionSettings,
              stamp_now: float) -> Optional[FusedSkeleton]:
        start = time.perf_counter()
        self.totals['instants'] += 1
        views = self._unmirrored(self._views(reports))
        if len(views) < settings.min_views:
            self.totals['too_few_views'] += 1
            return None
        result = triangulate_cameras(
            [camera for *_, camera in views], np.array([r.pixels for _, _, r, _ in views]),
            np.array([r.weights for _, _, r, _ in views]), min_views=settings.min_views,
            outlier_threshold_px=settings.outlier_threshold_px,
            max_std_m=settings.max_joint_std_m, method=settings.triangulation)
        if self.person is not None:  # views that agree on joints the person's bones refute
            result = self.person.plausible(result, self.totals)
        if not result.valid.any():
            self.totals['no_valid_joint'] += 1
            return None
        self.totals['skeletons'] += 1
        return self._make(views, result, start, stamp_now)

    @staticmethod
    def _make(views: list, result: Triangulation, start: float,
              stamp_now: float) -> FusedSkeleton:
        stamps = [stamp for _, stamp, _, _ in views]
        used = [r for _, _, r, _ in views]
        return FusedSkeleton(
            stamp=min(stamps), triangulation=result, camera_ids=[cam for cam, *_ in views],
            capture_stamps=stamps,
            latency=Latency(device_inference_s=max(r.device_s for r in used),
                            airtime_s=max(r.airtime_s for r in used),
                            queueing_s=max(r.queueing_s for r in used),
                            edge_inference_s=max(r.edge_s for r in used),
                            triangulation_s=time.perf_counter() - start,
                            end_to_end_s=stamp_now - min(stamps)))
