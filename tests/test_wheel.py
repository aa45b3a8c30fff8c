"""The built wheel runs its defaults outside the checkout.

Builds the wheel with maturin (cargo reuses the release build of `make install`, so this takes
seconds), installs it with `--no-deps` into a throw-away venv under a temp dir, gives that venv
the dependencies already installed in this one (a `.pth` line: no download, no copy), and runs
the installed commands from an unrelated directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        pytest.skip(f"{name} not installed (dev extra)")
    return which


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # `-i` this interpreter: the same cargo fingerprint as `maturin develop` in `make install`.
    built = subprocess.run(
        [_tool("maturin"), "build", "--release", "-i", sys.executable, "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = out.glob("rlaif_tui-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run(
        [_tool("uv"), "pip", "install", "--python", str(python), "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # This venv's packages, after the throw-away venv's own site-packages. A path in a .pth
    # file is not itself a site dir, so this venv's editable `rlaif_tui.pth` is not read.
    (Path(site) / "_deps_of_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _run(
    venv: Path, tmp: Path, command: str, *args: str, input: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The installed `command` of `venv`, run from `tmp` (outside the checkout), without this
    venv's PYTHONPATH/VIRTUAL_ENV, with HOME and the cache under `tmp`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["RLAIF_TUI_CACHE"] = str(tmp / "cache")
    env["HOME"] = str(tmp)
    return subprocess.run(
        [str(venv / "bin" / command), *args],
        cwd=tmp,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_wheel_holds_every_config_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [f"rlaif_tui/_assets/configs/{p.name}" for p in (REPO / "configs").glob("*.yaml")]
    expected += [
        f"rlaif_tui/_assets/data/{p.relative_to(REPO / 'data')}"
        for p in (REPO / "data").rglob("*")
        if p.is_file()
    ]
    assert len(expected) > 5
    assert [n for n in expected if n not in names] == []
    assert not [n for n in names if n.startswith(("configs/", "data/"))], "stray top-level dirs"


def test_installed_wheel_trains_and_runs_the_sandbox_from_anywhere(
    venv: Path, tmp_path: Path
) -> None:
    where = _run(
        venv,
        tmp_path,
        "python",
        "-c",
        "import rlaif_tui, rlaif_tui._reward\n"
        "from rlaif_tui.resources import config_path\n"
        "from rlaif_tui.tui.discover import QUICKSTART_CONFIG\n"
        "from rlaif_tui.data.bundled import bundled_problems\n"
        "print(rlaif_tui.__file__); print(config_path('smoke'))\n"
        "print(QUICKSTART_CONFIG.is_file(), len(bundled_problems()))",
    )
    assert where.returncode == 0, where.stderr[-3000:]
    package, smoke, demo = where.stdout.splitlines()
    assert package.startswith(str(venv)), package  # the wheel's copy, not the checkout
    assert smoke.startswith(str(venv))
    assert Path(smoke).is_file()
    assert demo.split() == ["True", "243"]

    run_dir = tmp_path / "run"
    steps = ["--steps", "1", "--run-dir", str(run_dir)]
    train = _run(venv, tmp_path, "rlaif", "train", "--config", smoke, *steps)
    assert train.returncode == 0, train.stderr[-3000:]
    assert (run_dir / "metrics.jsonl").read_text().count("\n") >= 1

    # the packaged name works as well as the path
    by_name = _run(venv, tmp_path, "rlaif", "train", "--config", "smoke", "--steps", "1")
    assert by_name.returncode == 0, by_name.stderr[-3000:]
    assert (tmp_path / "runs" / "smoke" / "metrics.jsonl").exists()

    job = '{"id": "j", "code": "def f(x):\\n    return x + 1", "tests": '
    job += '{"kind": "asserts", "asserts": ["assert f(1) == 2"]}}\n'
    sandbox = _run(
        venv,
        tmp_path,
        "rlaif",
        "sandbox",
        "run",
        "-",
        "--isolation-floor",
        "none",
        input=job,
        timeout=120,
    )
    assert sandbox.returncode == 0, sandbox.stderr
    assert '"status": "passed"' in sandbox.stdout, sandbox.stdout


def test_sdist_holds_the_packaged_files_for_a_wheel_built_from_it(tmp_path: Path) -> None:
    import tarfile

    subprocess.run(
        [_tool("maturin"), "sdist", "-o", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = tmp_path.glob("rlaif_tui-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for path in [*(REPO / "configs").glob("*.yaml"), *(REPO / "data").rglob("*.jsonl")]:
        rel = path.relative_to(REPO)
        assert str(rel) in names, rel
        assert f"rlaif_tui/_assets/{rel}" in names, rel
