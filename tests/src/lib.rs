//! Miroir's test harness: the fake Meilisearch node ([`fake`]), the fault-injecting
//! front door every test node sits behind ([`fault`]), and the fleet harness that runs
//! N nodes on real Meilisearch or on the fake ([`fleet`]). The end-to-end suites live in
//! `tests/` and use these.

pub mod fake;
pub mod fault;
pub mod fleet;
pub mod miroir;

pub use fake::{FakeNode, FakeNodeHandle, FakeNodeOptions};
pub use fault::{FaultSwitches, HarnessError};
pub use fleet::{start_node, Backend, Fleet, FleetOptions, TestNode};
pub use miroir::{Miroir, MiroirOptions};
