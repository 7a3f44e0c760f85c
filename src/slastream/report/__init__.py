"""The monthly SLA report a provider sends its customer (docs/report.md).

``report.command.main`` is the ``slastream report`` command; ``report.source`` gets the
figures (a capture or a running worker), ``report.build`` assembles a ``Report`` value, and
``report.html``, ``report.pdf`` and ``report.tables`` render it.
"""
