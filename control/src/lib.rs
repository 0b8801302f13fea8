//! The Miroir control plane library.
