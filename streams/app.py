"""The faust App and its topics, and nothing else (agents live in streams.agents)."""
from __future__ import annotations

import faust

from config import settings

S = settings()
K = S.raw["kafka"]

app = faust.App(
    K["consumer_group"],
    broker=[f"kafka://{b.strip().removeprefix('kafka://')}" for b in S.broker.split(",")],
    store="memory://",
    origin="streams",
    topic_partitions=K["partitions"],
    topic_replication_factor=K["replication_factor"],
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
                             key_serializer="raw", value_serializer="raw", partitions=K["partitions"])
dead_letter_topic = app.topic(S.dead_letter_topic, key_type=bytes, value_type=bytes,
                              key_serializer="raw", value_serializer="raw", partitions=1)
