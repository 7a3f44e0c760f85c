"""The Kafka side: topics, record format, producers and consumers (the only aiokafka user)."""
