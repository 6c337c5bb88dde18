"""Compiles storage_logs/_engine.c in place (scripts/setup runs this when the source is newer).

.venv/bin/python storage_logs/build_engine.py
"""

from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    setup(
        name="ascmon-storage-log-engine",
        ext_modules=[
            Extension(
                "storage_logs._engine",
                [str(ROOT / "storage_logs" / "_engine.c")],
                extra_compile_args=["-O3", "-Wall", "-Wno-unused-result"],
            )
        ],
        script_args=[
            "build_ext",
            "--inplace",
            "--build-temp",
            str(ROOT / "var" / "build"),
            "--build-lib",
            str(ROOT / "var" / "build" / "lib"),
        ],  # fmt: skip
    )
