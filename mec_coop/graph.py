# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The node graph of a deployment, described once and started two ways.

A YAML file in ``config/`` describes a rig (source, cameras, scheme, uplink emulation) and the
parameters of each node kind; :func:`build_graph` turns it into :class:`NodeSpec` entries. The
launch files in ``launch/`` turn those into ``launch_ros`` nodes (for ``ros2 launch``), and
:mod:`mec_coop.runner` starts the very same entries as processes where ``ros2 launch`` is not
available. Both therefore run one graph.
"""

import copy
from dataclasses import dataclass, field, replace
import pathlib

import yaml

from mec_coop.alloc.plan import RELEASE_MARGIN_S
from mec_coop.coop.routing import MODES

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[1] / 'config'
SOURCES = ('virtual', 'recorded', 'external')
# Nodes restarted when they die (launch: respawn; runner: bounded restarts). Their state comes
# back from latched topics (CameraInfo, /tf_static, link state, allocation) and parameters. The
# rig (a restart would restart the scenario) and the evaluator (its score) are not.
RESPAWNED = ('camera_node', 'edge_node', 'uplink_node', 'allocator_node')
RESPAWN_DELAY_S = 1.0
# Restarts per node over a run (graph.respawn_max_retries): a node that keeps dying (a broken
# driver, a model that cannot load) ends the graph instead of restarting for ever.
RESPAWN_MAX_RETRIES = 5
MAX_RESPAWN_MAX_RETRIES = 1000
# Config sections: the graph itself, then one per node kind (its ROS parameters).
# (A new node kind or graph key is added here too; test_graph checks every config builds.)
SECTIONS = ('graph', 'rig', 'recorded_rig', 'camera', 'uplink', 'edge', 'evaluator', 'allocator',
            'action')
GRAPH_KEYS = ('source', 'cameras', 'mode', 'uplink', 'evaluator', 'allocator',
              'delay_requirement_s', 'audit_fraction', 'actions', 'respawn_max_retries')


@dataclass(frozen=True)
class NodeSpec:
    """One node: executable in ``lib/mec_coop`` (module ``mec_coop.nodes.<executable>``)."""

    executable: str
    name: str
    namespace: str = ''
    parameters: dict = field(default_factory=dict)
    # Restarts allowed when a respawned node dies (launch: ``respawn_max_retries``).
    respawn_max_retries: int = RESPAWN_MAX_RETRIES

    @property
    def enclave(self):
        """SROS2 enclave of the node (one per node: least privilege), ``/mec_coop/cam0/camera``."""
        return f'/mec_coop{self.fully_qualified_name}'

    @property
    def respawn(self):
        """Whether the node is restarted when it dies (see :data:`RESPAWNED`)."""
        return self.executable in RESPAWNED and self.respawn_max_retries > 0

    @property
    def fully_qualified_name(self):
        namespace = self.namespace.strip('/')
        return f'/{namespace}/{self.name}' if namespace else f'/{self.name}'


def load_config(path, overrides=()):
    """
    Read a graph YAML and apply ``section.key=value`` overrides (values parsed as YAML).

    A bare name is looked up in the package's ``config/`` folder (``virtual_rig`` ->
    ``config/virtual_rig.yaml``).
    """
    path = pathlib.Path(path)
    if not path.suffix and not path.exists():
        path = CONFIG_DIR / f'{path}.yaml'
    config = yaml.safe_load(path.read_text()) or {}
    for item in overrides:
        key, sep, value = item.partition('=')
        if not sep or '.' not in key:
            raise ValueError(f'override {item!r} must look like section.key=value')
        section, name = key.split('.', 1)
        if section not in SECTIONS:
            raise ValueError(f'override {item!r}: unknown section {section!r}; valid: '
                             f'{sorted(SECTIONS)}')
        if section == 'graph' and name not in GRAPH_KEYS:
            raise ValueError(f'override {item!r}: unknown key graph.{name}; valid: '
                             f'{sorted(GRAPH_KEYS)} (node keys are checked by each node, which '
                             'exits naming its valid parameters)')
        parsed = yaml.safe_load(value)
        # ROS parameters are typed: `rig.fps=10` must stay a double where the file has 2.0.
        if isinstance(config.get(section, {}).get(name), float) and isinstance(parsed, int) \
                and not isinstance(parsed, bool):
            parsed = float(parsed)
        config.setdefault(section, {})[name] = parsed
    return config


def camera_names(config):
    """Camera names of a config: ``graph.cameras`` is a count (``cam0``..) or a list of names."""
    cameras = config.get('graph', {}).get('cameras', 4)
    if isinstance(cameras, int):
        if not 2 <= cameras <= 16:
            raise ValueError(f'graph.cameras must be 2..16, got {cameras}')
        return [f'cam{i}' for i in range(cameras)]
    names = [str(c) for c in cameras]
    if len(set(names)) != len(names) or len(names) < 2:
        raise ValueError(f'graph.cameras needs at least 2 distinct names, got {names}')
    return names


def build_graph(config):
    """List the :class:`NodeSpec` of a config (``config/virtual_rig.yaml`` shows the keys)."""
    config = copy.deepcopy(config)
    unknown = sorted(set(config) - set(SECTIONS)) + \
        sorted(f'graph.{k}' for k in set(config.get('graph', {})) - set(GRAPH_KEYS))
    if unknown:
        raise ValueError(f'unknown config entries {unknown}; sections: {list(SECTIONS)}, graph '
                         f'keys: {list(GRAPH_KEYS)}')
    graph = config.get('graph', {})
    source = graph.get('source', 'virtual')
    if source not in SOURCES:
        raise ValueError(f'graph.source must be one of {SOURCES}, got {source!r}')
    mode = graph.get('mode', 'cooperative')
    if mode != 'custom' and mode not in MODES:
        raise ValueError(f"graph.mode must be 'custom' or one of {sorted(MODES)}, got {mode!r}")
    cameras = camera_names(config)
    uplink = bool(graph.get('uplink', True))
    allocator = bool(graph.get('allocator', False))
    for section in ('allocator', 'evaluator'):
        if 'delay_requirement_s' in config.get(section, {}):
            raise ValueError(f'{section}.delay_requirement_s: the delay requirement is set once, '
                             'as graph.delay_requirement_s')
    retries = graph.get('respawn_max_retries', RESPAWN_MAX_RETRIES)
    if isinstance(retries, bool) or not isinstance(retries, int) or \
            not 0 <= retries <= MAX_RESPAWN_MAX_RETRIES:
        raise ValueError(f'graph.respawn_max_retries must be an integer 0..'
                         f'{MAX_RESPAWN_MAX_RETRIES} (0: never restart), got {retries!r}')
    # One owner: the allocator when it runs (it publishes it), else the evaluator scores with it.
    requirement = {'delay_requirement_s': float(graph.get('delay_requirement_s', 0.5))}

    specs = []
    if source == 'virtual':
        specs.append(NodeSpec('rig_node', 'rig', parameters={
            **config.get('rig', {}), 'num_cameras': len(cameras)}))
    elif source == 'recorded':
        specs.append(NodeSpec('recorded_rig_node', 'rig', parameters={
            **config.get('recorded_rig', {}), 'cameras': cameras}))
    camera = dict(config.get('camera', {}))
    if mode != 'custom':
        camera.update(MODES[mode])
    if mode == 'device_centric':  # cameras only: no image goes to the edge, searches neither
        camera.setdefault('search_every', 0)
    if allocator:  # audits feed the allocator's score laws; without it they would only cost
        camera.setdefault('audit_fraction', float(graph.get('audit_fraction', 0.0)))
    for cam in cameras:
        specs.append(NodeSpec('camera_node', 'camera', cam, {**camera, 'camera_id': cam}))
    if uplink:
        specs.append(NodeSpec('uplink_node', 'uplink', parameters={
            **config.get('uplink', {}), 'cameras': cameras}))
    # The edge releases a tracked instant in time for the requirement (the allocator keeps it
    # so when the requirement changes). While it acquires a person it waits acquire_timeout_s
    # (1.5 s): measured on the demo, a deadline there too met 100% instead of 95% of D_req
    # but cut the skeleton rate from 0.80 to 0.65.
    deadline = round(max(0.01, requirement['delay_requirement_s'] - RELEASE_MARGIN_S), 3)
    specs.append(NodeSpec('edge_node', 'edge', parameters={
        'sync_timeout_s': deadline,
        **config.get('edge', {}), 'cameras': cameras,
        'input_namespace': 'edge' if uplink else ''}))
    if graph.get('evaluator', source == 'virtual'):
        specs.append(NodeSpec('evaluator_node', 'evaluator', parameters={
            **config.get('evaluator', {}), 'cameras': cameras,
            **({} if allocator else requirement)}))
    if graph.get('actions', False):
        specs.append(NodeSpec('action_node', 'action', parameters=dict(config.get('action', {}))))
    if allocator:
        # Without the uplink emulator there is no node to take the TDMA shares.
        specs.append(NodeSpec('allocator_node', 'allocator', parameters={
            **config.get('allocator', {}), 'cameras': cameras, **requirement,
            **({} if uplink else {'uplink_node': ''})}))
    return [replace(spec, respawn_max_retries=retries) for spec in specs]


def ros_params_file(spec):
    """Render the ``--params-file`` content of a spec (ROS 2 parameter YAML)."""
    return yaml.safe_dump({spec.fully_qualified_name: {'ros__parameters': spec.parameters}},
                          sort_keys=True)
