"""SLI computations: canonical events in, good/total (and latency) per one-minute slice out.

Every SLI is a small state machine with the same shape (see ``base.SLI``): ``add`` takes a
batch of events of the types it consumes, ``advance`` closes what the watermark has proven
final and returns slice deltas. Deltas are additive, so slices from any number of
partitions, batches or workers sum to the same month.
"""
