"""Compiles the storage log engine (storage_logs/_engine*.c) in place; scripts/setup runs this when a
source is newer than the built module.

    .venv/bin/python storage_logs/build_engine.py
"""

from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "storage_logs").glob("_engine*.c"))
ENGINE = Extension(
    "storage_logs._engine",
    SOURCES,
    depends=[str(path.relative_to(ROOT)) for path in (ROOT / "storage_logs").glob("_engine*.h")],
    extra_compile_args=["-O3", "-Wall", "-Wno-unused-result"],
)

if __name__ == "__main__":
    setup(
        name="ascmon-storage-log-engine",
        ext_modules=[ENGINE],
        script_args=[
            "build_ext",
            "--inplace",
            "--build-temp",
            str(ROOT / "var" / "build"),
            "--build-lib",
            str(ROOT / "var" / "build" / "lib"),
        ],  # fmt: skip
    )
