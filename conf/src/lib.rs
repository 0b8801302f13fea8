//! Miroir configuration schema, validation, topology and the routing functions.
