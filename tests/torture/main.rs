//! The reliability suites (see `scripts/torture.sh`): randomized and
//! fault-injection tests that mount real galleryfs instances. `cargo test`
//! runs them at quick sizes; `GALLERYFS_TORTURE=full` runs the full sizes.
//! Every suite prints one `SUITE name: …` summary line and its seed;
//! `GALLERYFS_SEED=N` replays a run.

mod badinput;
mod crash;
mod diskfull;
#[path = "../it/fixture.rs"]
#[allow(dead_code)]
mod fixture;
mod fsx;
mod harness;
mod model;
mod multiuser;
mod peers;
mod soak;
