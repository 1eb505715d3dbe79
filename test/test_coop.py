# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Routing thresholds, the TDMA uplink model and view synchronisation."""

import math

import pytest

from mec_coop.coop.routing import mode_thresholds, Route, threshold_problem, Thresholds
from mec_coop.coop.uplink import LinkBudget, TdmaUplink
from mec_coop.fusion.sync import Verdict, ViewSynchronizer


def test_dual_threshold_routes():
    th = Thresholds(theta_low=0.3, theta_high=0.7, theta_server=0.4)
    assert th.route(0.9) is Route.KEYPOINTS
    assert th.route(0.7) is Route.KEYPOINTS
    assert th.route(0.5) is Route.OFFLOAD
    assert th.route(0.3) is Route.OFFLOAD
    assert th.route(0.1) is Route.DROP
    assert th.route(math.nan) is Route.DROP
    assert th.edge_accepts(0.4) and not th.edge_accepts(0.39) and not th.edge_accepts(math.nan)


@pytest.mark.parametrize('args,reason', [
    ((0.8, 0.2), 'must not exceed theta_high'),
    ((-0.1, 0.5), 'theta_low must be in'),
    ((0.1, 1.5), 'theta_high must be in'),
    ((0.1, 0.5, math.nan), 'theta_server must be a finite number'),
])
def test_invalid_thresholds_have_a_reason(args, reason):
    assert reason in threshold_problem(*args)
    with pytest.raises(ValueError, match=reason):
        Thresholds(*args)


def test_mode_presets_behave_as_the_paper_schemes():
    assert {mode_thresholds('device_centric').route(c) for c in (0.1, 0.6)} == {
        Route.DROP, Route.KEYPOINTS}
    assert {mode_thresholds('server_centric').route(c) for c in (0.0, 0.5, 1.0)} == {
        Route.OFFLOAD}
    assert Route.DROP not in {mode_thresholds('cascade').route(c) for c in (0.0, 0.5, 1.0)}
    with pytest.raises(ValueError, match='unknown mode'):
        mode_thresholds('magic')


def test_airtime_follows_the_shannon_rate_of_table_one():
    link = TdmaUplink(LinkBudget())
    link.configure({'cam0': 0.25}, {'cam0': -100.0})
    # P g / (N0 B) = 1 W * 1e-10 / (10^-19.5 W/Hz * 1e6 Hz) = 10^3.5
    rate = 0.25 * 1e6 * math.log2(1.0 + 10 ** 3.5)
    assert link.rate_bps('cam0') == pytest.approx(rate)
    d = link.send('cam0', 32 * 1024, now=10.0)
    assert d.airtime_s == pytest.approx(8 * 32 * 1024 / rate)
    assert d.queueing_s == 0.0 and d.done_at == pytest.approx(10.0 + d.airtime_s)


def test_messages_of_one_camera_queue_and_cameras_are_independent():
    link = TdmaUplink()
    link.configure({'cam0': 0.5, 'cam1': 0.5})
    first = link.send('cam0', 20_000, now=0.0)
    second = link.send('cam0', 20_000, now=0.0)
    other = link.send('cam1', 20_000, now=0.0)
    assert second.queueing_s == pytest.approx(first.airtime_s)
    assert other.queueing_s == 0.0
    assert link.backlog_s('cam0', 0.0) == pytest.approx(2 * first.airtime_s)


def test_queued_airtime_is_served_at_the_new_share():
    # An offload queued on a 0.01 share: 100x its airtime on the whole band.
    link = TdmaUplink(LinkBudget(bandwidth_hz=45e3))
    link.configure({'cam0': 0.01, 'cam1': 0.99}, {'cam0': -110.0, 'cam1': -110.0})
    full = LinkBudget(bandwidth_hz=45e3).spectral_rate_bps(-110.0)
    first = link.send('cam0', 10_000, now=0.0, item='a')
    link.send('cam0', 10_000, now=0.0, item='b')
    assert first.done_at == pytest.approx(8e4 / (0.01 * full))     # ~14 s on a 45 kHz band
    # 1 s later the share rises to 0.5: the bits of the first offload still left go 50x faster,
    # and the second follows at the new rate.
    link.configure({'cam0': 0.5, 'cam1': 0.5}, now=1.0)
    left = (first.done_at - 1.0) / 50.0
    assert link.next_due() == pytest.approx(1.0 + left)
    assert link.backlog_s('cam0', 1.0) == pytest.approx(left + 8e4 / (0.5 * full))
    assert link.due(1.0 + left - 1e-6) == []
    (item, done), = link.due(1.0 + left)
    assert item == 'a' and done.done_at == pytest.approx(1.0 + left)
    assert done.done_at < first.done_at / 10
    # Its airtime is its bits at the share it left under (airtime x rate = size), the rest of
    # its time on the link counts as queueing.
    assert done.airtime_s == pytest.approx(8e4 / link.rate_bps('cam0'))
    assert done.queueing_s == pytest.approx(done.done_at - done.airtime_s)
    # The share falls again while the second is on the air: its remaining bits slow down.
    link.configure({'cam0': 0.25, 'cam1': 0.75}, now=1.0 + left)
    (item, done), = link.due(100.0)
    assert item == 'b' and done.done_at == pytest.approx(1.0 + left + 8e4 / (0.25 * full))
    assert link.next_due() is None and link.backlog_s('cam0', 100.0) == 0.0
    # Re-timing needs the time once something is queued; a rejected change keeps the queue.
    link.send('cam1', 1000, now=100.0)
    with pytest.raises(ValueError, match='needs now'):
        link.configure({'cam1': 0.7})
    with pytest.raises(ValueError, match='sum to'):
        link.configure({'cam1': 0.9}, now=100.0)
    assert link.next_due() == pytest.approx(100.0 + 8e3 / (0.75 * full))


def test_a_stream_keeps_its_newest_waiting_messages():
    # Offloads keep 2 waiting (KEEP_LAST 2); keypoints are their own stream.
    link = TdmaUplink()
    link.configure({'cam0': 0.5})
    air = 8e4 / link.rate_bps('cam0')
    sent = [link.send('cam0', 10_000, now=0.0, item=f'o{i}', stream='offload', keep=2)
            for i in range(3)]
    kp = link.send('cam0', 1_000, now=0.0, item='k', stream='keypoints', keep=20)
    # o0 is on the air, o1 and o2 wait: nothing replaced yet.
    assert link.take_replaced() == [] and sent[2].done_at == pytest.approx(3 * air)
    late = link.send('cam0', 10_000, now=0.5 * air, item='o3', stream='offload', keep=2)
    # o1 made way: o2, the keypoints and o3 move up by one offload's airtime.
    assert link.take_replaced() == ['o1'] and link.take_replaced() == []
    assert late.done_at == pytest.approx(3 * air + kp.airtime_s)
    assert [item for item, _ in link.due(10.0)] == ['o0', 'o2', 'k', 'o3']


def test_shares_must_sum_to_at_most_one():
    link = TdmaUplink()
    link.configure({'cam0': 0.6})
    with pytest.raises(ValueError, match='sum to'):
        link.configure({'cam1': 0.5})
    with pytest.raises(ValueError, match=r'must be in \(0, 1\]'):
        link.configure({'cam1': 0.0})
    with pytest.raises(ValueError, match='gains must be finite'):
        link.configure(gains_db={'cam0': float('nan')})
    # Moving airtime between cameras in one change is valid although each step alone is not.
    link.configure({'cam0': 0.3, 'cam1': 0.7})
    assert link.rate_bps('cam1') > link.rate_bps('cam0')
    with pytest.raises(KeyError, match='no TDMA share'):
        link.send('cam9', 10, 0.0)


def test_sync_releases_complete_groups_immediately():
    sync = ViewSynchronizer(['a', 'b', 'c'], max_gap_s=0.02, timeout_s=1.0)
    assert sync.add('a', 1.000, 'a1', now=1.0) == (Verdict.ACCEPTED, [])
    assert sync.add('b', 1.010, 'b1', now=1.0) == (Verdict.ACCEPTED, [])
    verdict, groups = sync.add('c', 0.995, 'c1', now=1.05)
    assert verdict is Verdict.ACCEPTED and len(groups) == 1
    assert {cam: item for cam, (_, item) in groups[0].reports.items()} == {
        'a': 'a1', 'b': 'b1', 'c': 'c1'}
    assert sync.stats.complete == 1


def test_sync_times_out_and_counts_late_out_of_order_and_duplicates():
    sync = ViewSynchronizer(['a', 'b'], max_gap_s=0.02, timeout_s=0.3)
    sync.add('a', 1.0, 'a1', now=1.0)
    assert sync.add('a', 1.0, 'again', now=1.01)[0] is Verdict.DUPLICATE
    assert sync.stats.duplicate == 1
    assert sync.poll(now=1.2) == []
    (group,) = sync.poll(now=1.31)
    assert set(group.reports) == {'a'} and sync.stats.timed_out == 1
    assert sync.add('b', 1.005, 'b1', now=1.4)[0] is Verdict.LATE  # released
    assert sync.stats.late == 1
    sync.add('a', 2.0, 'a2', now=2.0)
    assert sync.add('a', 1.5, 'old', now=2.0)[0] is Verdict.OUT_OF_ORDER
    assert sync.stats.out_of_order == 1


def test_sync_with_a_camera_removed_completes_without_it():
    sync = ViewSynchronizer(['a', 'b'], max_gap_s=0.02, timeout_s=5.0)
    sync.add('a', 1.0, 'a1', now=1.0)
    sync.set_cameras(['a'])
    (group,) = sync.poll(now=1.0)
    assert set(group.reports) == {'a'}


def test_sync_keeps_an_instant_open_for_an_offloaded_view_after_newer_ones_complete():
    # cam 'b' offloads the frame of instant 1.0: its edge result comes after its next frame.
    sync = ViewSynchronizer(['a', 'b'], max_gap_s=0.02, timeout_s=1.0)
    assert sync.add('a', 1.0, 'a1', now=1.0)[0] is Verdict.ACCEPTED
    assert sync.add('a', 1.5, 'a2', now=1.5)[0] is Verdict.ACCEPTED
    verdict, groups = sync.add('b', 1.5, 'b2', now=1.6)
    assert verdict is Verdict.ACCEPTED and [g.anchor for g in groups] == [1.5]
    verdict, groups = sync.add('b', 1.0, 'b1 (edge result)', now=1.7)
    assert verdict is Verdict.ACCEPTED and [g.anchor for g in groups] == [1.0]
    assert set(groups[0].reports) == {'a', 'b'}
    assert sync.stats.complete == 2 and sync.stats.timed_out == sync.stats.out_of_order == 0
    # Its instant released, a second result for it is late; an unknown older stamp is out of order.
    assert sync.add('b', 1.0, 'again', now=1.8)[0] is Verdict.LATE
    assert sync.add('b', 1.25, 'old', now=1.8)[0] is Verdict.OUT_OF_ORDER


def test_sync_replaces_a_provisional_report_and_waits_for_the_final_one():
    sync = ViewSynchronizer(['a', 'b'], max_gap_s=0.02, timeout_s=1.0)
    sync.add('a', 1.0, 'a1', now=1.0)
    # b offloaded its frame: its own keypoints stand in, the instant still waits for the edge.
    assert sync.add('b', 1.0, 'b1 (camera)', now=1.0, provisional=True) == (Verdict.ACCEPTED, [])
    assert sync.add('b', 1.0, 'b1 (camera again)', now=1.0,
                    provisional=True)[0] is Verdict.DUPLICATE
    verdict, (group,) = sync.add('b', 1.0, 'b1 (edge)', now=1.3)
    assert verdict is Verdict.ACCEPTED and group.reports['b'][1] == 'b1 (edge)'
    # The edge is too slow: the timeout releases the instant with the camera's keypoints.
    sync.add('a', 2.0, 'a2', now=2.0)
    sync.add('b', 2.0, 'b2 (camera)', now=2.0, provisional=True)
    (group,) = sync.poll(now=3.0)
    assert group.reports['b'][1] == 'b2 (camera)' and sync.stats.timed_out == 1
    assert sync.add('b', 2.0, 'b2 (edge)', now=3.1)[0] is Verdict.LATE
