//! Miroir task and topology store: SQLite (default) and Redis backends.
