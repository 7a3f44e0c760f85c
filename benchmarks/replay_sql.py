"""The delivery counts of a capture as one DuckDB SQL query: the baseline of the replay
benchmark (``benchmarks/replay.py``).

The same measurand as the delivery SLI (docs/semantics.md): logical uplinks are distinct
(DevAddr, 16-bit FCnt) keys of the LoRaWAN data uplinks on the gateway side (ChirpStack
``event/up`` with a good or absent CRC), inside the NetID's DevAddr prefix, timed by the
first gateway copy the bridge received; one is delivered when the application side
(``application/.../event/up``) reports the same DevAddr and low 16 bits of FCnt at most
``deadline_s`` after it. The SQL leaves out what the simulated captures of the benchmark
do not have (bridge outages, MAC-only frames, FCnt keys reused within a capture), so its
numbers are the ledger's there, and the benchmark checks that they are.

DuckDB is a benchmark-only dependency: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

# Bytes of a PHYPayload from its hex: MHDR (1), DevAddr (4, little-endian), FCtrl (1),
# FCnt (2, little-endian); LoRaWAN 1.0.x §4.
_QUERY = """
WITH lines AS (
    SELECT epoch_ms(received_at::TIMESTAMPTZ) AS t, topic, payload
    FROM read_json(?, format = 'newline_delimited',
                   columns = {received_at: 'VARCHAR', topic: 'VARCHAR', payload: 'JSON'})
),
frames AS (
    SELECT t, hex(from_base64(payload ->> '$.phyPayload')) AS h
    FROM lines
    WHERE topic LIKE '%/gateway/%/event/up'
      AND coalesce(payload ->> '$.rxInfo.crcStatus', 'CRC_OK') = 'CRC_OK'
),
uplinks AS (
    SELECT ('0x' || h[9:10] || h[7:8] || h[5:6] || h[3:4])::BIGINT AS devaddr,
           ('0x' || h[15:16] || h[13:14])::BIGINT AS fcnt, min(t) AS t
    FROM frames
    WHERE length(h) >= 24 AND (('0x' || h[1:2])::INTEGER & 227) IN (64, 128)
    GROUP BY ALL
),
ours AS (
    SELECT * FROM uplinks WHERE (devaddr >> (32 - $bits)) = ($prefix >> (32 - $bits))
),
deliveries AS (
    SELECT ('0x' || (payload ->> '$.devAddr'))::BIGINT AS devaddr,
           coalesce((payload ->> '$.fCnt')::BIGINT, 0) & 65535 AS fcnt, min(t) AS t
    FROM lines
    WHERE topic LIKE 'application/%/device/%/event/up'
    GROUP BY ALL
)
SELECT count(*) AS total,
       count(*) FILTER (WHERE d.t - u.t <= $deadline_ms) AS good
FROM ours u LEFT JOIN deliveries d USING (devaddr, fcnt)
"""


class Counts(NamedTuple):
    good: int
    total: int
    wall_s: float
    cpu_s: float  # this process's CPU time: DuckDB's threads run inside it


def delivery_counts(capture: Path, prefix: int, bits: int, deadline_s: float,
                    threads: int | None = None) -> Counts:
    """Run the query on a fresh in-memory database; wall and CPU time of the query."""
    import duckdb  # a benchmark-only dependency (the bench extra)

    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    query = (_QUERY.replace("$bits", str(int(bits))).replace("$prefix", str(int(prefix)))
             .replace("$deadline_ms", str(int(deadline_s * 1000))))
    wall, cpu = time.perf_counter(), time.process_time()
    row = con.execute(query, [str(capture)]).fetchone()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    con.close()
    assert row is not None
    total, good = row
    return Counts(int(good), int(total), wall, cpu)
