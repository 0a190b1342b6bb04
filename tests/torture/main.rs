//! The reliability suites (see `scripts/torture.sh`): randomized and
//! fault-injection tests that mount real galleryfs instances. `cargo test`
//! runs them at quick sizes; `GALLERYFS_TORTURE=full` runs the full sizes.
//! Every suite prints one `SUITE name: …` summary line and its seed;
//! `GALLERYFS_SEED=N` replays a run.

mod badinput;
mod crash;
mod diskfull;
mod fsx;
mod model;
mod multiuser;
mod peers;
mod soak;
mod views;

/// The testkit finds the binaries under test without `env!`, next to this
/// test executable: they must be the ones cargo built for it.
#[test]
fn the_testkit_finds_the_binaries_cargo_built() {
    galleryfs_testkit::bins::assert_found(
        env!("CARGO_BIN_EXE_galleryfs"),
        env!("CARGO_BIN_EXE_gallery-trash"),
    );
}

#[test]
fn the_generator_is_deterministic() {
    use galleryfs_testkit::harness::Rng;
    let (mut a, mut b) = (Rng::new(7), Rng::new(7));
    let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
    let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
    assert_eq!(xs, ys);
    assert_ne!(xs[0], Rng::new(8).next_u64());
}
