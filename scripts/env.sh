# Source this file to use the project-local environment in a shell:  . scripts/env.sh
# (venv with ROS 2 Jazzy wheels + the built mec_coop interfaces, offline Ultralytics).
MEC_COOP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MEC_COOP_ROOT
export VIRTUAL_ENV="$MEC_COOP_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
# The source tree first, so edits take effect without re-installing; mec_coop.msg is merged in
# from the installed copy (see mec_coop/__init__.py).
export PYTHONPATH="$MEC_COOP_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false YOLO_CONFIG_DIR="$MEC_COOP_ROOT/.yolo"
# Many small processes share the cores and the numpy work is small matrices: multi-threaded
# OpenBLAS only spins (scipy's SLSQP in the compression allocator ran ~30x slower with it).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
