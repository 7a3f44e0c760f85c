"""OpenSLO v1 in and out: a config as OpenSLO documents, and OpenSLO documents as a config.

The mapping, both ways, and what does not map are docs/openslo.md.
"""

from slastream.openslo.export import export_main
from slastream.openslo.importer import import_main

__all__ = ["export_main", "import_main"]
