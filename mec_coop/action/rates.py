# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Event detector settings per skeleton rate, and the rate a track stream actually has.

The same probability threshold fires later at a lower skeleton rate: the first skeleton that
shows a fall comes up to one period later, and one in three is missing while a person falls.
So the detector's thresholds are picked on the validation seeds once per skeleton rate the
graph runs at and per bundled model (m; ``benchmarks/actions.py --write-models`` writes them
to ``models/detectors.json``), and so is, per rate, the m itself (the profile marked
``selected``: a longer window smooths the evidence of a fall over more skeletons, which at
2 Hz costs more time than it buys accuracy). The action node uses the settings of its model
(or, with no m set, the selected model) at the bundled rate nearest (in ratio) to the rate it
measures from the skeletons' stamps.
"""

from collections import deque
from dataclasses import asdict, dataclass, replace
import json
import pathlib

import numpy as np

from .events import DetectorSettings

DETECTORS_PATH = pathlib.Path(__file__).resolve().parent / 'models' / 'detectors.json'
# Intervals the measured rate is taken from; it needs at least MIN_INTERVALS of them.
RATE_WINDOW = 25
MIN_INTERVALS = 5
# The rate is 1 / this quantile of the intervals: a person lying on the floor is missed 60% of
# the time (docs/figures/closed_loop_falls.json), so fewer than half the intervals of a fall
# are one period long and the median says half the rate; a quarter of them still are.
RATE_QUANTILE = 0.25
# A running profile gives way only to one nearer by this ratio: a rate near the midpoint of two
# profiles must not switch (and restart the event detectors) back and forth.
SWITCH_RATIO = 1.15


@dataclass(frozen=True)
class RateProfile:
    """
    Detector ``settings`` picked on validation streams at ``rate_hz`` for ``m`` frames.

    ``selected``: this m is the one picked on validation for ``rate_hz`` (one per rate).
    """

    rate_hz: float
    m: int
    settings: DetectorSettings
    selected: bool = False


def save_profiles(profiles: list[RateProfile], path: pathlib.Path = DETECTORS_PATH) -> None:
    """Write ``profiles`` as JSON (one per rate and m, a line each)."""
    rows = [json.dumps({'rate_hz': p.rate_hz, 'm': p.m, 'selected': p.selected, 'settings': {
        **asdict(p.settings), 'actions': list(p.settings.actions),
        'per_action': [list(row) for row in p.settings.per_action],
        'onset_lags': [list(row) for row in p.settings.onset_lags]}})
        for p in sorted(profiles, key=lambda p: (p.m, p.rate_hz))]
    path.write_text('[\n' + ',\n'.join(rows) + '\n]\n')


def load_profiles(path: pathlib.Path = DETECTORS_PATH) -> list[RateProfile]:
    """
    Read the profiles written by :func:`save_profiles` (ascending m, then rate).

    Every rate must have exactly one selected m: the node's default would be ambiguous.
    """
    rows = json.loads(pathlib.Path(path).read_text())
    profiles = [RateProfile(float(r['rate_hz']), int(r['m']), DetectorSettings(**{
        **r['settings'], 'actions': tuple(r['settings']['actions']),
        'per_action': tuple((str(a), float(on), float(off), int(n), float(t))
                            for a, on, off, n, t in r['settings'].get('per_action', [])),
        'onset_lags': tuple((str(a), float(lag))
                            for a, lag in r['settings'].get('onset_lags', []))}),
        bool(r.get('selected', False))) for r in rows]
    if not profiles:
        raise ValueError(f'{path} holds no detector profile')
    for rate in {p.rate_hz for p in profiles}:
        chosen = [p.m for p in profiles if p.rate_hz == rate and p.selected]
        if len(chosen) != 1:
            raise ValueError(f'{path}: {rate:g} Hz needs exactly one selected m, got {chosen} '
                             '(benchmarks/actions.py --part events --write-models picks it)')
    return sorted(profiles, key=lambda p: (p.m, p.rate_hz))


def nearest_profile(rate_hz: float, profiles: list[RateProfile],
                    current: RateProfile | None = None) -> RateProfile:
    """
    Return the profile whose rate is nearest to ``rate_hz`` in ratio (2 vs 5 Hz: 3.16 Hz).

    With a ``current`` profile, it stays unless another is nearer by :data:`SWITCH_RATIO`.
    """
    if not (np.isfinite(rate_hz) and rate_hz > 0.0):
        raise ValueError(f'rate_hz must be finite and positive, got {rate_hz}')

    def distance(profile):
        return abs(np.log(rate_hz / profile.rate_hz))
    best = min(profiles, key=distance)
    if current in profiles and distance(best) + np.log(SWITCH_RATIO) > distance(current):
        return current
    return best


def rate_settings(rate_hz: float, profiles: list[RateProfile], actions: tuple[str, ...],
                  current: RateProfile | None = None,
                  m: int | None = None) -> tuple[RateProfile, DetectorSettings]:
    """
    Return the profile for ``rate_hz`` and ``m`` frames, and its settings reporting ``actions``.

    Among the profiles of the model with ``m`` frames (else of the nearest m that has some;
    None: the m selected per rate), the one of :func:`nearest_profile`.
    """
    if m is None:
        profiles = [p for p in profiles if p.selected]
    else:
        nearest_m = min({p.m for p in profiles}, key=lambda k: (abs(k - m), k))
        profiles = [p for p in profiles if p.m == nearest_m]
    profile = nearest_profile(rate_hz, profiles, current)
    return profile, replace(profile.settings, actions=tuple(actions))


class RateMeter:
    """
    Skeleton rate of the streams a node receives: 1 / a low quantile of a track's intervals.

    Not the mean or the median: missing skeletons (12%, 60% while a person lies) make many
    intervals two or more periods long (:data:`RATE_QUANTILE`); gaps longer than ``max_gap_s``
    (a track that restarted) are not intervals of the stream.
    """

    def __init__(self, max_gap_s: float) -> None:
        self.max_gap_s = max_gap_s
        self._last: dict[int, float] = {}
        self._intervals: deque[float] = deque(maxlen=RATE_WINDOW)

    def add(self, track_id: int, stamp: float) -> None:
        """Count the skeleton of ``track_id`` at ``stamp`` (out-of-order ones are ignored)."""
        last = self._last.get(track_id)
        if last is not None and stamp <= last:
            return
        if last is not None and stamp - last <= self.max_gap_s:
            self._intervals.append(stamp - last)
        self._last[track_id] = stamp
        if len(self._last) > 64:    # ids come and go: keep the most recent ones
            for key in sorted(self._last, key=lambda k: self._last[k])[:32]:
                del self._last[key]

    @property
    def rate_hz(self) -> float | None:
        """Return the measured rate, or None before :data:`MIN_INTERVALS` intervals."""
        if len(self._intervals) < MIN_INTERVALS:
            return None
        return float(1.0 / np.quantile(self._intervals, RATE_QUANTILE))
