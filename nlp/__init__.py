"""Text processing for complaints: PII masking, keywords and phrases, hot topics, word clouds and the industry classifier."""
