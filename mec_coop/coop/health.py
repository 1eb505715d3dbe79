# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Health of a node from its counters: OK, WARN or ERROR with the reason, over the last period.

Judged on what changed since the previous assessment, not on totals, so a burst of bad input
an hour ago does not keep a node in WARN, and output that stops is an ERROR even though the
totals still look large.
"""

from typing import Iterable, Mapping

OK, WARN, ERROR = 0, 1, 2

# Input refused by the checks in mec_coop.coop.guard, the codec and the synchroniser's stamp
# rules; they mean a sender or its clock is wrong. (Late and duplicate reports are normal at a
# low rate and stay out of the level; they are in the values.)
REJECTION_CAUSES = ('future', 'stale', 'out_of_order', 'bad_stamp', 'wrong_frame', 'too_large',
                    'corrupt', 'empty', 'format', 'encoding', 'confidence', 'coordinates',
                    'malformed', 'bad_input')


class HealthWatch:
    """
    Level of one component from a counter of its output and counters of rejected input.

    :param produced: the counter that grows while the component works (frames, skeletons).
    :param stall_s: no growth of ``produced`` for this long is an ERROR.
    :param start: the time counting starts (activation), on the clock passed to ``assess``.
    """

    def __init__(self, produced: str, what: str, stall_s: float, start: float,
                 rejected: Iterable[str] = REJECTION_CAUSES) -> None:
        self.produced = produced
        self.what = what
        self.stall_s = float(stall_s)
        self.rejected = tuple(rejected)
        self._previous: dict[str, int] = {}
        self._progress_at = start

    def assess(self, counts: Mapping[str, int], now: float) -> tuple[int, str]:
        """``(level, message)`` from ``counts`` (totals) at time ``now``."""
        period = {k: int(v) - self._previous.get(k, 0) for k, v in counts.items()}
        self._previous = {k: int(v) for k, v in counts.items()}
        made = period.get(self.produced, 0)
        if made > 0:
            self._progress_at = now
        bad = {k: period[k] for k in self.rejected if period.get(k, 0) > 0}
        refused = f'; rejected {", ".join(f"{n} {k}" for k, n in bad.items())}' if bad else ''
        idle = now - self._progress_at
        if idle >= self.stall_s:
            return ERROR, f'no {self.what} for {idle:.0f} s{refused}'
        if bad:
            return WARN, f'{made} {self.what} in the last period{refused}'
        return OK, f'{counts.get(self.produced, 0)} {self.what}'
