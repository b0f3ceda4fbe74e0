"""Build hook: adds the generated `nexus.v1` modules to the wheel.

The generated Python code (messages, .pyi stubs, gRPC stubs) lives in the repository's
gen/python, produced by `npm run generate`; it imports itself as `nexus.v1`. It is copied
into the build unchanged, next to the hand-written `nexus_broker` package, with a PEP 561
`py.typed` marker. Set NEXUS_GEN_PYTHON to build from elsewhere than the repository.
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_generated(build_py):
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        gen = Path(os.environ.get("NEXUS_GEN_PYTHON") or here.parent.parent / "gen" / "python")
        source = gen / "nexus" / "v1"
        if not (source / "token_pb2.py").is_file():
            raise SystemExit(f"nexus-broker: no generated code at {gen} (run 'npm run generate', or set NEXUS_GEN_PYTHON)")
        target = Path(self.build_lib) / "nexus" / "v1"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for f in sorted(source.iterdir()):
            if f.suffix in (".py", ".pyi"):
                shutil.copy2(f, target / f.name)
        (target / "py.typed").write_text("")


setup(cmdclass={"build_py": build_py_with_generated})
