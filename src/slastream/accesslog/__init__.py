"""Request logs from access logs: ``formats`` parses nginx/Envoy JSON lines and the
``combined`` format with the request time, ``follow`` reads a log as it grows (``tail -F``)
or stdin, ``reader`` publishes ``slastream/request/{component}`` batches."""
