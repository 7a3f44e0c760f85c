"""What leaves slastream for the people watching: Prometheus metrics, rules, HTTP pages.

- :mod:`slastream.export.metrics`: the scrape-time collector over a :class:`MetricsSource`;
- :mod:`slastream.export.http`: ``/metrics``, ``/healthz``, ``/api/ledger`` and the status page;
- :mod:`slastream.export.alerting` and :mod:`slastream.export.rules`: ``slastream rules``;
- :mod:`slastream.export.dashboards`: the Grafana dashboards shipped in ``grafana/``.
"""
