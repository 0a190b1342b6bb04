//! POSIX conformance of `gallery/`, differential: every case runs the same
//! operation sequence on a native directory and in a mounted gallery and
//! compares what the kernel answered (see `diff`). Where galleryfs differs
//! by design (unlink moves a file to `.trash/`), the case asserts the
//! designed behaviour and says why.
//!
//! The cases need root (they act as other users through `setpriv` on an
//! `allow_other` mount) and FUSE, like the other integration tests.

mod diff;
mod sys;

mod files;
mod links;
mod longpath;
mod open;
mod perms;
mod regress;
mod rename;
mod times;
mod workflows;
mod xattr;

/// The testkit finds the binaries under test without `env!`, next to this
/// test executable: they must be the ones cargo built for it.
#[test]
fn the_testkit_finds_the_binaries_cargo_built() {
    galleryfs_testkit::bins::assert_found(
        env!("CARGO_BIN_EXE_galleryfs"),
        env!("CARGO_BIN_EXE_gallery-trash"),
    );
}
