"""Call records: the store, the interface calls write through, and redaction of personal data."""
