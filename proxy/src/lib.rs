//! The Miroir proxy library: everything the `miroir` binary serves.
