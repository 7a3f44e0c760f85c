"""The one C extension: the replay's hot loop (src/slastream/sources/_scan.c).

Everything else about the package is in pyproject.toml. The extension is optional: where it
cannot be built (no C compiler), the install goes on and the replay runs the same loop in
Python, with the same results (src/slastream/sources/fastpath.py).
"""

from setuptools import Extension, setup

SOURCES = "src/slastream/sources/"

setup(ext_modules=[Extension(
    "slastream.sources._scan",
    sources=[SOURCES + "_scan.c"],
    depends=[SOURCES + name for name in ("_scan_bridge.h", "_scan_events.h", "_scan_fields.h",
                                         "_scan_json.h", "_scan_rows.h", "_scan_topics.h")],
    extra_compile_args=["-O2"],
    optional=True,
)])
