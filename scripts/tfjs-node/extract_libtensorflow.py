"""Extracts the TensorFlow C library and its C headers from a tensorflow-cpu wheel.

Usage: extract_libtensorflow.py WHEEL DEST

DEST receives lib/ (libtensorflow_cc.so.2, libtensorflow_framework.so.2) and
include/ (the C API headers tfjs-node's binding compiles against, plus the
few headers they include). Only the standard library is used, so this runs
on any machine that has python3, before anything else is installed.
"""

import os
import shutil
import sys
import zipfile

LIBRARIES = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
INCLUDE_ROOT = "tensorflow/include/"
# The public C API headers and what they include (tstring and the TSL status).
HEADER_DIRS = (
    "tensorflow/c/",
    "tensorflow/core/platform/ctstring",
    "tensorflow/tsl/platform/ctstring",
    "tensorflow/tsl/c/",
)


def copy_member(wheel: zipfile.ZipFile, name: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with wheel.open(name) as source, open(target + ".part", "wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    os.replace(target + ".part", target)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    wheel_path, dest = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        missing = [lib for lib in LIBRARIES if lib not in names]
        if missing:
            print(f"{wheel_path}: no {', '.join(missing)} in this wheel", file=sys.stderr)
            return 1
        for lib in LIBRARIES:
            print(f"  extracting {os.path.basename(lib)} ({wheel.getinfo(lib).file_size >> 20} MiB)", file=sys.stderr)
            copy_member(wheel, lib, os.path.join(dest, "lib", os.path.basename(lib)))
        headers = [
            n for n in names
            if n.startswith(INCLUDE_ROOT) and n.endswith(".h")
            and n[len(INCLUDE_ROOT):].startswith(HEADER_DIRS)
        ]
        if not any(n.endswith("tensorflow/c/eager/c_api.h") for n in headers):
            print(f"{wheel_path}: no tensorflow/c/eager/c_api.h under {INCLUDE_ROOT}", file=sys.stderr)
            return 1
        for name in sorted(headers):
            copy_member(wheel, name, os.path.join(dest, "include", name[len(INCLUDE_ROOT):]))
        print(f"  extracted {len(headers)} headers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
