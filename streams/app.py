"""The faust App and its topics, and nothing else (agents live in streams.agents)."""
from __future__ import annotations

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from config import install_safe_logging, settings
from streams.kafka_security import faust_credentials

S = settings()
install_safe_logging()   # a control character in a logged value never reaches the worker's log raw
K = S.kafka


def _short_fetch_wait(create):
    """faust hard-codes fetch_max_wait_ms=1500. Tansu answers a fetch only when that wait
    runs out, even when data arrives meanwhile (measured: p50 360 ms at 1500, 3 ms at 50),
    so the worker's consumer gets the configured wait instead."""
    def create_worker_consumer(self, transport):
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = K.fetch_max_wait_ms
        return consumer
    return create_worker_consumer


faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _short_fetch_wait(
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer)

app = faust.App(
    K.consumer_group,
    broker=[f"kafka://{b.strip().removeprefix('kafka://')}" for b in S.broker.split(",")],
    broker_credentials=faust_credentials(S),   # an external Kafka's SASL/TLS (KAFKA_SECURITY_PROTOCOL …)
    store="memory://",
    origin="streams",
    topic_partitions=K.partitions,
    topic_replication_factor=K.replication_factor,
    table_standby_replicas=0,
    # Tansu completes a group join after half the session timeout (FAUST_ON_TANSU.md).
    broker_session_timeout=6.0,
    broker_heartbeat_interval=1.0,
    broker_commit_interval=1.0,
    consumer_auto_offset_reset="earliest",
    stream_buffer_maxsize=16384,
    consumer_max_fetch_size=4 * 1024 * 1024,
    producer_linger=0.005,
    producer_max_batch_size=1 << 20,
    producer_max_request_size=4 << 20,
    web_enabled=False,
    datadir=str(S.data_dir / "faust"),
)

complaints_topic = app.topic(S.complaints_topic, key_type=bytes, value_type=bytes,
                             key_serializer="raw", value_serializer="raw", partitions=K.partitions)
dead_letter_topic = app.topic(S.dead_letter_topic, key_type=bytes, value_type=bytes,
                              key_serializer="raw", value_serializer="raw", partitions=1)
