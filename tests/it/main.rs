//! All integration tests, in one binary: each module mounts real galleryfs
//! instances through the testkit (`tests/common`) and drives them with real processes and syscalls.

mod architecture;
mod desktop;
mod fold;
mod gallery_trash;
mod litter;
mod mountinfo;
mod mounting;
mod overwrite;
mod semantics;
mod setups;
mod space;

/// The testkit finds the binaries under test without `env!`, next to this
/// test executable: they must be the ones cargo built for it.
#[test]
fn the_testkit_finds_the_binaries_cargo_built() {
    galleryfs_testkit::bins::assert_found(
        env!("CARGO_BIN_EXE_galleryfs"),
        env!("CARGO_BIN_EXE_gallery-trash"),
    );
}
