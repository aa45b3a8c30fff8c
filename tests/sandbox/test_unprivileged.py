"""The unprivileged path (a user's laptop): run as `nobody`, the lanes use a user namespace
instead of a uid drop and must still reach full isolation where the kernel allows it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SYSTEM_PYTHON = Path("/usr/bin/python3")

SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from rlaif_tui import _reward
ex = _reward.Executor(python=sys.executable, package_root=sys.argv[1], workers=1, timeout_s=3,
                      isolation_floor="none")
jobs = [
    {"id": "who", "code": "import os\nprint(os.getpid())\ntry:\n    open('/etc/passwd')\n"
     "    print('read')\nexcept OSError:\n    print('DENIED')\n",
     "tests": {"kind": "io", "cases": [{"stdin": "", "stdout": "1\nDENIED"}]}},
    {"id": "bomb", "code": "import os\nwhile True:\n    try:\n        os.fork()\n"
     "    except OSError:\n        pass\n", "tests": {"kind": "asserts", "asserts": ["assert 1"]}},
    {"id": "after", "code": "def f():\n    return 1\n",
     "tests": {"kind": "asserts", "asserts": ["assert f() == 1"]}},
]
outcomes = [json.loads(o) for o in ex.run([json.dumps(j) for j in jobs])]
print(json.dumps({"isolation": ex.isolation, "protections": json.loads(ex.protections),
                  "outcomes": outcomes}))
ex.close()
"""


def test_unprivileged_user_gets_user_namespace_isolation(repo_root: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None or not SYSTEM_PYTHON.exists():
        pytest.skip("needs root (to become nobody), setpriv and /usr/bin/python3")
    version = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(
            f"the extension is built for {sys.version_info[:2]}, system python is {version}"
        )
    as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(SYSTEM_PYTHON)]
    probe = (
        "import sys; from pathlib import Path; "
        "sys.exit(0 if any((Path(sys.argv[1]) / 'rlaif_tui').glob('_reward*.so')) else 3)"
    )
    readable = subprocess.run(
        [*as_nobody, "-c", probe, str(repo_root)], cwd="/", capture_output=True, check=False
    )
    if readable.returncode != 0:
        pytest.skip("nobody cannot read this checkout (e.g. it sits under a 0700 home)")
    proc = subprocess.run(
        [*as_nobody, "-c", SCRIPT, str(repo_root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    prot = result["protections"]
    assert prot["user_namespace"]
    assert not prot["uid_drop"]
    if Path("/proc/sys/user/max_user_namespaces").read_text().strip() != "0":
        assert result["isolation"] == "full", prot
    who, bomb, after = result["outcomes"]
    assert who["passed"], who
    assert bomb["status"] == "timeout"
    assert after["passed"], after
