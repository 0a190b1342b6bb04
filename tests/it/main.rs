//! All integration tests, in one binary: each module mounts real galleryfs
//! instances through `fixture` and drives them with real processes and syscalls.

mod architecture;
mod desktop;
mod fixture;
mod gallery_trash;
mod mountinfo;
mod mounting;
mod semantics;
mod space;
