# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""An allocator plan as the graph sees it: ``AllocationState``, diagnostics, a log line."""

from mec_coop.alloc.plan import Plan, PlanSettings
from mec_coop.msg import AllocationState, CameraAllocation, LinkState


class Solved:
    """One plan with the settings, gains and score-law state it was made with."""

    def __init__(self, settings: PlanSettings, result: Plan, gains: list[float],
                 scores: dict, step_s: float) -> None:
        self.settings, self.plan, self.gains, self.scores = settings, result, gains, scores
        self.step_s = step_s

    def state(self) -> AllocationState:
        """Build the ``AllocationState`` of this plan (header left to the caller)."""
        p, a = self.plan, self.plan.allocation
        state = AllocationState(
            delay_requirement_s=p.delay_req_s, predicted_delay_s=p.delay_s,
            predicted_accuracy=a.accuracy, feasible=p.feasible, min_delay_s=a.min_delay_s,
            solver=a.solver, solve_time_s=a.solve_time_s, iterations=int(a.iterations))
        state.cameras = [
            CameraAllocation(camera_id=cam, tdma_share=float(share), theta_low=float(lo),
                             theta_high=float(hi), theta_server=float(srv),
                             channel_gain_db=float(gain), predicted_accuracy=float(acc),
                             predicted_load_bps=float(load))
            for cam, share, lo, hi, srv, gain, acc, load in zip(
                self.scores, p.shares, a.theta_low, a.theta_high, a.theta_server, self.gains,
                a.accuracy_per_camera, p.loads_bps)]
        return state

    def values(self) -> dict:
        """Diagnostic key/values of this plan."""
        p, a = self.plan, self.plan.allocation
        values = {'solver': a.solver, 'delay_requirement_s': p.delay_req_s,
                  'predicted_delay_s': f'{p.delay_s:.4f}', 'min_delay_s': f'{a.min_delay_s:.4f}',
                  'predicted_accuracy': f'{a.accuracy:.4f}', 'plan_solves': p.solves,
                  'solve_time_s': f'{a.solve_time_s:.4f}', 'solve_step_s': f'{self.step_s:.4f}'}
        for cam, (pi, added) in self.scores.items():
            values[f'pi.{cam}'], values[f'samples.{cam}'] = f'{pi:.3f}', added
        return values

    def summary(self) -> str:
        """One log line: requirement, prediction and thresholds."""
        p, a = self.plan, self.plan.allocation
        text = 'feasible' if p.feasible else (
            f'cannot be met (smallest reachable {a.min_delay_s:.3f} s); fallback applied')
        return (f'{a.solver}: D_req {p.delay_req_s:.3f} s {text}: predicted delay '
                f'{p.delay_s:.3f} s, accuracy {a.accuracy:.3f}, theta_low '
                f'{[round(float(v), 3) for v in a.theta_low]}, theta_high '
                f'{[round(float(v), 3) for v in a.theta_high]}')


def link_key(msg: LinkState) -> tuple:
    """Return the parts of a link state a plan depends on (not the shares it sets)."""
    return (msg.bandwidth_hz, msg.tx_power_dbm, msg.noise_dbm_per_hz, tuple(msg.camera_ids),
            tuple(msg.channel_gain_db))
