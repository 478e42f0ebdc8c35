"""Text processing for complaints: PII scrubbing (and, per issue 4, keywords and topics)."""
