"""Compiles the storage log engine (storage_logs/_engine*.c) in place, as pyproject.toml declares it;
scripts/setup runs this when a source is newer than the built module.

    .venv/bin/python storage_logs/build_engine.py
"""

import os
import shutil
import tomllib
from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent.parent


def engine():
    """The extension as pyproject.toml declares it (one declaration for pip and for the checkout)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["ext-modules"][0]
    return Extension(
        declared["name"],
        [str(ROOT / source) for source in declared["sources"]],
        depends=[str(ROOT / header) for header in declared["depends"]],
        extra_compile_args=declared["extra-compile-args"],
    )


if __name__ == "__main__":
    build = ROOT / "var" / "build"
    build.mkdir(parents=True, exist_ok=True)
    os.chdir(build)  # setup() would read pyproject.toml from the working folder, with this venv's setuptools
    arguments = ["build_ext", "--build-temp", str(build), "--build-lib", str(build / "lib")]
    setup(name="ascmon-storage-log-engine", ext_modules=[engine()], script_args=arguments)
    for built in (build / "lib" / "storage_logs").glob("_engine*"):
        # A new file renamed over the old one: a process that has the old module loaded keeps its
        # mapping (copying over it in place crashes that process with SIGBUS).
        staged = ROOT / "storage_logs" / f".{built.name}.new"
        shutil.copy2(built, staged)
        os.replace(staged, ROOT / "storage_logs" / built.name)
