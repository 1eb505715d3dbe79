# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Where recorded rigs live: Pose2Sim's demos or a folder of videos and a Qualisys calibration.

The data are Pose2Sim's demos (PyPI ``pose2sim``, BSD-3): ``Demo_SinglePerson`` and
``Demo_MultiPerson`` each hold four 60 fps portrait videos (``videos/cam01.mp4`` ...) and one
Qualisys calibration (``calibration/Calib.qca.txt``). Only the data files are used; no Pose2Sim
module is imported. Install them with ``pip install --no-deps pose2sim==0.10.49``.
"""

from collections.abc import Iterable
import importlib.util
import os
from pathlib import Path

DEMOS = ('Demo_SinglePerson', 'Demo_MultiPerson')

INSTALL_HINT = 'pip install --no-deps pose2sim==0.10.49'
_VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv')


def pose2sim_root() -> Path:
    """Folder of the installed ``Pose2Sim`` package (found without importing it)."""
    spec = importlib.util.find_spec('Pose2Sim')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f'the pose2sim demo data is not installed: {INSTALL_HINT}')
    return Path(list(spec.submodule_search_locations)[0])


def resolve_demo(demo: str | os.PathLike[str]) -> Path:
    """Folder of a demo: a name from :data:`DEMOS` or a path with ``videos/`` and a calibration."""
    if str(demo) in DEMOS:
        folder = pose2sim_root() / str(demo)
    else:
        folder = Path(demo).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f'recorded rig folder {folder} does not exist '
                                f'(demo names: {", ".join(DEMOS)})')
    return folder


def find_calibration(folder: str | os.PathLike[str]) -> Path:
    """Find ``calibration/*.qca.txt`` in ``folder`` or (Pose2Sim batch trials) its parent."""
    folder = Path(folder)
    for base in (folder, folder.parent):
        found = sorted((base / 'calibration').glob('*.qca.txt'))
        if len(found) > 1:
            raise ValueError(f'several calibrations in {base / "calibration"}: '
                             f'{[p.name for p in found]}')
        if found:
            return found[0]
    raise FileNotFoundError(f'no calibration/*.qca.txt in {folder} or {folder.parent}')


def find_videos(folder: str | os.PathLike[str], names: Iterable[str]) -> dict[str, Path]:
    """``{camera name: video path}`` from ``folder/videos``, matched by camera serial."""
    video_dir = Path(folder) / 'videos'
    files = sorted(p for p in video_dir.glob('*') if p.suffix.lower() in _VIDEO_SUFFIXES)
    videos, missing = {}, []
    for name in names:
        exact = [p for p in files if p.stem == name]
        loose = [p for p in files if name in p.stem]
        match = exact or loose
        if len(match) != 1:
            missing.append(f'{name} ({len(match)} matches)')
        else:
            videos[name] = match[0]
    if missing:
        raise FileNotFoundError(f'{video_dir}: no unique video for camera(s) '
                                f'{", ".join(missing)}; found {[p.name for p in files]}')
    return videos
