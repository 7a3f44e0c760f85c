"""The MQTT side: subscribe, decode, produce to Kafka (``slastream bridge``).

``bridge.Bridge`` is the entry point; ``connection`` and ``packets`` are the MQTT client
(an asyncio protocol, measured >10x faster than paho/aiomqtt at MQTT 5); ``inbox`` is the
bounded buffer with its overflow policy; ``decoder`` turns raw messages into canonical
events, counters and dead letters; ``recorder`` writes ``--record`` captures.
"""
