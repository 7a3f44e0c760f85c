"""The C extensions: the replay's hot loop (src/slastream/sources/_scan.c) and the delivery
SLI's tables of uplinks (src/slastream/sli/_table.c).

Everything else about the package is in pyproject.toml. Both are optional: where they cannot
be built (no C compiler), the install goes on and the same work runs in Python, with the
same results (src/slastream/sources/fastpath.py, src/slastream/sli/table.py).
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
), Extension(
    "slastream.sli._table",
    sources=["src/slastream/sli/_table.c"],
    extra_compile_args=["-O2"],
    optional=True,
)])
