"""Access-log formats: combined with the request time, nginx and Envoy JSON, renamed fields."""

from __future__ import annotations

import pytest

from slastream.accesslog.formats import (
    PRESETS,
    Rejection,
    Request,
    log_format,
    parse_line,
)
from slastream.model.time import parse_rfc3339_ms

T0 = parse_rfc3339_ms("2026-10-01T00:00:01.000Z")


def test_combined_with_request_time() -> None:
    line = (b'203.0.113.9 - alice [01/Oct/2026:02:00:01 +0200] "GET /a?q=\\"x\\" HTTP/1.1" 503 '
            b'17 "https://ref/" "Mozilla/5.0 (X11)" 0.250\n')
    assert parse_line(line, PRESETS["combined"]) == Request(T0, 250.0, 503, "203.0.113.9", 17)
    # extra fields between the user agent and the request time are allowed
    line2 = (b'::1 - - [01/Oct/2026:00:00:01 +0000] "POST / HTTP/2.0" 200 0 "-" "-" '
             b'upstream=10.0.0.1:80 1.5')
    assert parse_line(line2, PRESETS["combined"]) == Request(T0, 1500.0, 200, "::1", 0)
    # Apache's %b writes "-" for an empty body
    line3 = b'::1 - - [01/Oct/2026:00:00:01 +0000] "HEAD / HTTP/1.1" 304 - "-" "-" 0.001'
    assert parse_line(line3, PRESETS["combined"]) == Request(T0, 1.0, 304, "::1", 0)


def test_nginx_and_envoy_json() -> None:
    nginx = (b'{"time_iso8601":"2026-10-01T00:00:01+00:00","request_time":"0.042",'
             b'"status":"200","remote_addr":"10.1.1.1"}')
    assert parse_line(nginx, PRESETS["nginx-json"]) == Request(T0, 42.0, 200, "10.1.1.1")
    envoy = (b'{"start_time":"2026-10-01T00:00:01.000Z","duration":42,"response_code":200,'
             b'"downstream_remote_address":"10.1.1.2"}')
    assert parse_line(envoy, PRESETS["envoy-json"]) == Request(T0, 42.0, 200, "10.1.1.2")
    own = b'{"time":1790812801.5,"duration_ms":3,"status":204}'
    assert parse_line(own, PRESETS["json"]) == Request(1_790_812_801_500, 3.0, 204, "")


def test_response_sizes_of_the_json_presets() -> None:
    nginx = (b'{"time_iso8601":"2026-10-01T00:00:01+00:00","request_time":"0.042",'
             b'"status":"200","remote_addr":"10.1.1.1","body_bytes_sent":"2048"}')
    assert parse_line(nginx, PRESETS["nginx-json"]).bytes == 2048  # type: ignore[union-attr]
    envoy = (b'{"start_time":"2026-10-01T00:00:01.000Z","duration":42,"response_code":200,'
             b'"bytes_sent":512}')
    assert parse_line(envoy, PRESETS["envoy-json"]).bytes == 512  # type: ignore[union-attr]
    own = b'{"time":1790812801.5,"duration_ms":3,"status":204,"bytes":7}'
    assert parse_line(own, PRESETS["json"]).bytes == 7  # type: ignore[union-attr]
    renamed = log_format("json", bytes_field="size")
    line = b'{"time":1790812801.5,"duration_ms":3,"status":204,"size":"9"}'
    assert parse_line(line, renamed).bytes == 9  # type: ignore[union-attr]
    # a size that is absent or not a byte count leaves the size unknown, never rejects
    for odd in (b'', b',"bytes":null', b',"bytes":"n/a"', b',"bytes":-3', b',"bytes":1.5'):
        line = b'{"time":1790812801.5,"duration_ms":3,"status":204' + odd + b'}'
        assert parse_line(line, PRESETS["json"]).bytes == -1  # type: ignore[union-attr]


def test_renamed_fields() -> None:
    fmt = log_format("json", time_field="ts", duration_field="rt", duration_unit="s",
                     status_field="code", client_field="key")
    line = b'{"ts":"2026-10-01T00:00:01Z","rt":0.5,"code":"500","key":"k1"}'
    assert parse_line(line, fmt) == Request(T0, 500.0, 500, "k1")


@pytest.mark.parametrize(("preset", "line", "reason"), [
    ("combined", b"garbage", "not combined format"),
    ("combined", b'1.2.3.4 - - [01/Oct/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
     "missing duration"),
    ("combined", b'1.2.3.4 - - [31/Foo/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 1',
     "bad time"),
    ("combined", b'1.2.3.4 - - [01/Oct/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "-" -',
     "bad duration"),
    ("nginx-json", b"{not json", "not JSON"),
    ("nginx-json", b"[1, 2]", "not a JSON object"),
    ("nginx-json", b'{"request_time":"1","status":"200"}', "missing time"),
    ("nginx-json", b'{"time_iso8601":"2026-10-01T00:00:01Z","status":"200"}',
     "missing duration"),
    ("nginx-json", b'{"time_iso8601":"x","request_time":"1","status":"200"}', "bad time"),
    ("nginx-json", b'{"time_iso8601":"2026-10-01T00:00:01Z","request_time":"-","status":"200"}',
     "bad duration"),
    ("nginx-json", b'{"time_iso8601":"2026-10-01T00:00:01Z","request_time":"NaN",'
                   b'"status":"200"}', "bad duration"),
    ("nginx-json", b'{"time_iso8601":"2026-10-01T00:00:01Z","request_time":"1","status":"OK"}',
     "bad status"),
    ("envoy-json", b'{"start_time":"2026-10-01T00:00:01Z","duration":1,"response_code":0}',
     "bad status"),
    ("json", b"   ", "empty line"),
])
def test_rejections_have_a_reason(preset: str, line: bytes, reason: str) -> None:
    assert parse_line(line, PRESETS[preset]) == Rejection(reason)


def test_payload_is_the_request_topic_shape() -> None:
    assert Request(T0, 578.9999999999999, 200, "c").payload() == {
        "time": "2026-10-01T00:00:01.000Z", "duration_ms": 579.0, "status": 200, "client": "c"}
    assert Request(T0, 1.0, 200, "c", 0).payload()["bytes"] == 0
