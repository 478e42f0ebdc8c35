"""An external Kafka's SASL/TLS settings, turned into what each client takes. The one place
they are built: the faust app (``faust_credentials``) and every aiokafka producer, consumer
and admin client (``aiokafka_kwargs``) call these.

Settings (``kafka.*`` in the settings file, or the environment): KAFKA_SECURITY_PROTOCOL
(PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SSL_CAFILE (the CA that
signed the brokers' certificates; the system's CAs when empty). ``config`` checks them.
"""
from __future__ import annotations

import ssl

from config import Settings


def ssl_context(S: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context for SSL and SASL_SSL (hostname checked), else None."""
    sec = S.kafka_security
    if not sec["security_protocol"].endswith("SSL"):
        return None
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=sec["ssl_cafile"] or None)


def aiokafka_kwargs(S: Settings, context: ssl.SSLContext | None = None) -> dict:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient:
    ``bootstrap_servers`` and, for an external Kafka that needs them, the security settings."""
    sec = S.kafka_security
    proto = sec["security_protocol"]
    kw: dict = {"bootstrap_servers": S.broker}
    if proto == "PLAINTEXT":
        return kw
    kw["security_protocol"] = proto
    if proto.endswith("SSL"):
        kw["ssl_context"] = context or ssl_context(S)
    if proto.startswith("SASL_"):
        kw.update(sasl_mechanism=sec["sasl_mechanism"], sasl_plain_username=sec["sasl_username"],
                  sasl_plain_password=sec["sasl_password"])
    return kw


def faust_credentials(S: Settings, context: ssl.SSLContext | None = None):
    """The ``broker_credentials`` for faust.App: None (PLAINTEXT), faust.SSLCredentials or
    faust.SASLCredentials (with a TLS context for SASL_SSL)."""
    import faust

    sec = S.kafka_security
    proto = sec["security_protocol"]
    if proto == "PLAINTEXT":
        return None
    if proto == "SSL":
        return faust.SSLCredentials(context or ssl_context(S))
    creds = faust.SASLCredentials(username=sec["sasl_username"], password=sec["sasl_password"],
                                  mechanism=sec["sasl_mechanism"],
                                  ssl_context=(context or ssl_context(S)) if proto == "SASL_SSL" else None)
    return creds


def describe(S: Settings) -> str:
    """One line for the operator, without the password."""
    sec = S.kafka_security
    proto = sec["security_protocol"]
    out = proto
    if proto.startswith("SASL_"):
        out += f" {sec['sasl_mechanism']} as {sec['sasl_username']}"
    if proto.endswith("SSL"):
        out += f", CA {sec['ssl_cafile'] or 'system'}"
    return out
