"""EU868 radio parameters used by generated frames (RP002 regional parameters defaults)."""

from __future__ import annotations

from typing import Any

# Default and common uplink channels, Hz; the index is rxInfo ``channel``.
EU868_CHANNELS = (868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000,
                  867_500_000, 867_700_000, 867_900_000)
RX2_FREQUENCY = 869_525_000  # RX2 default frequency (ChirpStack ``rx2_frequency``)
RX2_SF = 12  # RX2 default DR0 = SF12/125 kHz
JOIN_ACCEPT_DELAYS_S = (5, 6)  # JOIN_ACCEPT_DELAY1/2

# Shared, never mutated: one dict per spreading factor keeps a day of payloads cheap.
MODULATION: dict[int, dict[str, Any]] = {
    sf: {"lora": {"bandwidth": 125_000, "spreadingFactor": sf, "codeRate": "CR_4_5"}}
    for sf in range(7, 13)
}
DOWN_MODULATION: dict[int, dict[str, Any]] = {
    sf: {"lora": {**mod["lora"], "polarizationInversion": True}} for sf, mod in MODULATION.items()
}


def data_rate(sf: int) -> int:
    """EU868 DR of a 125 kHz LoRa spreading factor (DR0 = SF12 … DR5 = SF7)."""
    return 12 - sf
