"""The extension builds without compiler warnings (setup.py's flags plus Python's -Wall)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_build_prints_no_warnings(tmp_path):
    r = subprocess.run([sys.executable, "setup.py", "build_ext", "--force",
                        "--build-lib", str(tmp_path / "lib"), "--build-temp", str(tmp_path / "tmp")],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert "-Wall" in log                                    # the flags we claim to check with
    assert "warning:" not in log.lower(), log                # (gcc and Cython say "warning:")
