# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Why a recorded instant failed (mec_coop.alloc.instant_audit), on hand-made records."""

import pytest

from mec_coop.alloc.instant_audit import (accuracy_by_views, camera_rates, cause, decompose,
                                          view_counts)

CAMERAS = ['cam0', 'cam1', 'cam2']
D_REQ, RELEASE, T0, BOUND = 1.0, 0.95, 0.5, 100.0


def kp(arrived=0.1, person=True):
    return {'route': 'keypoints', 'sent': 0.05, 'arrived': arrived, 'person': person}


def image(arrived=0.4, person=True, result=None, accepted=False):
    view = {'route': 'offload', 'sent': 0.1, 'arrived': arrived, 'person': person}
    if result is not None:
        view.update(result=result, accepted=accepted)
    return view


def record(views, skeleton=None):
    out = {'stamp': 0.0, 'cameras': dict(zip(CAMERAS, views))}
    if skeleton is not None:
        out['skeleton'] = dict(zip(('delay', 'views', 'mpjpe_mm'), skeleton))
    return out


def test_each_cause():
    arrived_late = image(arrived=None)
    cases = {
        'success': record([kp(), kp(), arrived_late], (0.9, ['cam0', 'cam1'], 60.0)),
        'inaccurate': record([kp(), image(), kp()], (0.96, ['cam0', 'cam1'], 180.0)),
        'late': record([kp(), kp(), kp()], (1.2, CAMERAS, 40.0)),
        # One view by the release: cam1's image came after it, cam2 saw nobody.
        'few_views': record([kp(), image(arrived=0.97), kp(person=False)]),
        'fused_none': record([kp(), image(arrived=0.9), kp(arrived=None)]),
    }
    for expected, r in cases.items():
        assert cause(r, D_REQ, RELEASE, BOUND) == expected
    # An image of nobody is a view only through the edge's accepted result in time.
    empty = image(person=False, result=0.8, accepted=True)
    assert cause(record([kp(), empty, kp(person=False)]), D_REQ, RELEASE, BOUND) == 'fused_none'
    assert cause(record([kp(), empty, kp(person=False)]), D_REQ, 0.7, BOUND) == 'few_views'


def test_decompose_counts_from_the_first_skeleton_and_measures_the_model_terms():
    start = [record([kp(), kp(), kp()])] * 3   # the start-up: not counted
    run = [record([kp(), image(arrived=0.7), image(arrived=None)], (0.95, CAMERAS[:2], 50.0)),
           record([kp(), image(arrived=0.3), kp()], (0.95, CAMERAS, 150.0)),
           record([kp(), image(arrived=None), image(arrived=None)]),
           record([kp(arrived=0.6), kp(), kp()], (0.2, CAMERAS, 40.0))]
    out = decompose(start + run, CAMERAS, D_REQ, RELEASE, T0, BOUND, predicted=0.9)
    assert out['instants'] == 4
    assert out['shares'] == pytest.approx({'success': 0.5, 'few_views': 0.25,
                                           'fused_none': 0.0, 'late': 0.0, 'inaccurate': 0.25})
    cams = out['cameras']
    # cam0: keypoints always; one of four arrived after t0 but before the release.
    assert cams['cam0']['p_kp'] == 1.0 and cams['cam0']['v_t0'] == 0.75
    assert cams['cam0']['v_release'] == 1.0
    # cam1: three images (at 0.7 s, 0.3 s, never) and one keypoint message.
    assert cams['cam1']['p_off'] == 0.75
    assert cams['cam1']['off_in_t0'] == pytest.approx(1 / 3)
    assert cams['cam1']['off_in_release'] == pytest.approx(2 / 3)
    assert cams['cam1']['v_release'] == 0.75
    # Two views by the release in 3 of 4 instants; the independent product of the v's differs.
    assert out['two_views_release'] == 0.75
    v = [1.0, 0.75, 0.5]   # cam2: keypoints in two instants, images never
    assert cams['cam2']['v_release'] == 0.5
    expected = v[1] * v[2] + v[1] * (1 - v[2]) + (1 - v[1]) * v[2]   # cam0 always in
    assert out['independent_release'] == pytest.approx(expected)
    assert out['predicted_instant'] == 0.9


def test_accuracy_by_views_keys_on_views_and_images():
    records = [record([kp(), image(), kp()], (0.9, CAMERAS, 50.0)),
               record([kp(), image(), kp()], (0.9, CAMERAS, 150.0)),
               record([kp(), kp(), kp()], (0.9, CAMERAS[:2], 30.0)),
               record([kp(), kp(), kp()], (1.5, CAMERAS[:2], 30.0))]   # late: left out
    out = accuracy_by_views(records, D_REQ, BOUND)
    assert out == {'2v0i': {'count': 1, 'within_bound': 1.0, 'mpjpe_median_mm': 30.0},
                   '3v1i': {'count': 2, 'within_bound': 0.5, 'mpjpe_median_mm': 100.0}}


def test_camera_rates_without_frames():
    rates = camera_rates([], CAMERAS, T0, RELEASE)
    assert rates['cam0']['p_kp'] == 0.0 and rates['cam0']['kp_in_t0'] is None


def test_a_search_is_an_image_view():
    # A search: a frame its camera dropped, sent whole (no person of the camera's own), so the
    # edge's accepted result in time is its view, an image view as an offload's or an audit's.
    search = {**image(person=False, result=0.8, accepted=True), 'route': 'search'}
    r = record([kp(), search, kp(arrived=None)], (0.9, CAMERAS[:2], 60.0))
    assert view_counts(r, RELEASE) == (1, 1)
    assert view_counts(r, 0.7) == (1, 0)   # its result came after this release
    assert camera_rates([r], CAMERAS, T0, RELEASE)['cam1']['p_off'] == 1.0
    assert list(accuracy_by_views([r], D_REQ, BOUND)) == ['2v1i']
