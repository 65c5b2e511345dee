"""The ``cnn-lessons`` command: ``cnn-lessons lab`` starts JupyterLab on the lessons.

JupyterLab is bound to 127.0.0.1 with token authentication on; ``--ip`` opens it to a network on purpose.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

LESSONS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def lab_command(notebook_dir: Path, ip: str = "127.0.0.1", port: int | None = None, browser: bool = True):
    """The argv that starts JupyterLab on ``notebook_dir`` (token authentication stays on)."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        raise SystemExit("cnn-lessons: 'jupyter' was not found next to this Python; run 'make lab' to install it")
    argv = [jupyter, "lab", f"--ServerApp.root_dir={notebook_dir}", f"--ServerApp.ip={ip}"]
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI machines often run as root; Jupyter refuses it otherwise
    return argv


def _lab(args: argparse.Namespace) -> int:
    notebook_dir = Path(args.notebook_dir).resolve()
    if not notebook_dir.is_dir():
        print(
            f"cnn-lessons lab: no folder {notebook_dir}; pass --notebook-dir with the lessons' folder",
            file=sys.stderr,
        )
        return 2
    argv = lab_command(notebook_dir, args.ip, args.port, browser=not args.no_browser)
    os.execv(argv[0], argv)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-lessons", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    lab = commands.add_parser("lab", help="start JupyterLab on the lessons (127.0.0.1, token on)")
    lab.add_argument("--notebook-dir", default=str(LESSONS_DIR), help="folder of lessons (default: %(default)s)")
    lab.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    lab.add_argument("--port", type=int, default=None, help="port (default: Jupyter's, 8888 or the next free)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    lab.set_defaults(run=_lab)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
