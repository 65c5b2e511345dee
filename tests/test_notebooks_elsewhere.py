"""Every lesson's stored outputs hold on another processor, not only on the one that stored them.

Float32 arithmetic is rounded differently by different instruction sets (AVX-512, AVX2, SSE; with or without
fused multiply-add), so a trained network differs in its last bits from machine to machine. A lesson whose
stored output depended on those bits would fail strict nbval on a teacher's laptop or a CI machine. These tests
run each lesson once more under nbval with PyTorch's own kernels, MKL and oneDNN held to SSE4-era instruction
sets, which round the way an older or different machine does.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Environment variables read by PyTorch (ATen's CPU kernels), MKL (its conditional numerical reproducibility)
# and oneDNN (the convolutions) when they load.
OLDER_PROCESSOR = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **OLDER_PROCESSOR},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_older_processor_settings_take_effect():
    # Without this, the tests below could pass only because the settings were ignored.
    result = _run(["-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEFAULT"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_stored_outputs_hold_on_an_older_processor(notebook):
    result = _run(
        [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            str(notebook.relative_to(ROOT)),
        ],
        timeout=600,
    )
    assert result.returncode == 0, (
        f"{notebook.name} does not reproduce its stored outputs when rounded like an older processor "
        f"({OLDER_PROCESSOR}). Print such numbers at a precision the rounding cannot reach, or mark them "
        f"with '≈' (see README, 'Refreshing notebook outputs').\n" + result.stdout[-4000:]
    )
