"""The append-only, hash-chained audit log: appending entries and verifying the chain."""
