"""Builds libchatbotkit with cargo and bundles it into the wheel.

Everything else is in pyproject.toml; this file holds what cannot be
declared there: the Rust build (setuptools-rust) and the wheel's tag.
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools_rust import Binding, RustExtension, Strip
from setuptools_rust.build import build_rust as _build_rust

try:  # setuptools >= 70.1 has it; older ones take it from `wheel`
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # pragma: no cover
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

# The repository's root, where the crate and its licence files are.
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

if sys.platform == "darwin":
    LIBRARY = "libchatbotkit.dylib"
elif sys.platform == "win32":
    LIBRARY = "chatbotkit.dll"
else:
    LIBRARY = "libchatbotkit.so"


class build_rust(_build_rust):
    """Builds the cdylib exactly as `cargo build --release` does, and names
    it as the loader looks for it."""

    def run_for_extension(self, ext):
        # setuptools-rust asks for `--crate-type cdylib` alone, which is a
        # different unit for cargo than the manifest's cdylib+staticlib+rlib:
        # the crate would be compiled again next to `make build`'s copy. Asking
        # for the manifest's own list makes it the very same unit, so a build
        # that `make build` already did (in the same CARGO_TARGET_DIR, which
        # cargo honours) is reused as it is.
        metadata = ext.metadata(quiet=True)
        root = metadata["resolve"]["root"]
        package = next(p for p in metadata["packages"] if p["id"] == root)
        lib = next(t for t in package["targets"] if "cdylib" in t["crate_types"])
        if "--crate-type" not in (ext.args or []):
            ext.args = [*(ext.args or []), "--crate-type", ",".join(lib["crate_types"])]
        super().run_for_extension(ext)

    def get_dylib_ext_path(self, ext, target_fname):
        # Not an extension module: keep the library's own file name rather
        # than one with Python's ABI suffix (libchatbotkit.cpython-311-...so).
        path = super().get_dylib_ext_path(ext, target_fname)
        return path[: path.rindex("libchatbotkit")] + LIBRARY


class bdist_wheel(_bdist_wheel):
    """Tags the wheel py3-none-<platform>: it holds native code for one
    platform, but no Python extension module, so any Python 3 can load it."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform

    def run(self):
        # The bundled library carries the crates it was built from: their
        # notices go with it, beside the project's own licence.
        self.run_command("build")
        package = os.path.join(self.get_finalized_command("build").build_lib, "chatbotkit_c")
        for notice in ("LICENSE", "THIRD-PARTY-LICENSES"):
            shutil.copy(os.path.join(ROOT, notice), os.path.join(package, notice))
        super().run()


setup(
    rust_extensions=[
        RustExtension(
            "chatbotkit_c.libchatbotkit",
            path="../../Cargo.toml",
            binding=Binding.NoBinding,
            # Debug info only: the wheel stays small and its exported
            # symbols (the C API) are untouched.
            strip=Strip.Debug,
        )
    ],
    cmdclass={"build_rust": build_rust, "bdist_wheel": bdist_wheel},
    zip_safe=False,
)
