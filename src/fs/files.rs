//! I/O on open backing files, wherever they were opened: only the gallery
//! hands out handles open for writing, so writes go through the space
//! policy, which decides whether the trash must make room first.

use std::fs::File;
use std::os::fd::AsFd;

use super::core::Core;
use crate::backing;
use crate::error::{FsError, FsResult};

pub(super) fn read(core: &Core, fh: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
    let file = core.handles.file(fh)?;
    let mut buf = vec![0u8; size as usize];
    let n = backing::pread_full(&file, &mut buf, offset)?;
    buf.truncate(n);
    Ok(buf)
}

pub(super) fn write(core: &Core, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
    let file = core.handles.file(fh)?;
    let len = data.len() as u64;
    let written = core
        .space
        .write_op(core, file.as_fd(), offset, len, true, || {
            write_some(&file, data, offset)
        })?;
    Ok(written as u32)
}

pub(super) fn fsync(core: &Core, fh: u64, datasync: bool) -> FsResult<()> {
    backing::fsync(core.handles.file(fh)?.as_fd(), datasync)
}

pub(super) fn fallocate(core: &Core, fh: u64, offset: u64, length: u64, mode: i32) -> FsResult<()> {
    let file = core.handles.file(fh)?;
    let frees = mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_COLLAPSE_RANGE) != 0;
    core.space
        .write_op(core, file.as_fd(), offset, length, !frees, || {
            backing::fallocate(file.as_fd(), mode, offset, length)
        })
}

pub(super) fn lseek(core: &Core, fh: u64, offset: i64, whence: i32) -> FsResult<i64> {
    backing::lseek(core.handles.file(fh)?.as_fd(), offset, whence)
}

pub(super) fn copy_file_range(
    core: &Core,
    fh_in: u64,
    offset_in: u64,
    fh_out: u64,
    offset_out: u64,
    len: u64,
) -> FsResult<u32> {
    let (fin, fout) = (core.handles.file(fh_in)?, core.handles.file(fh_out)?);
    let len = len.min(u32::MAX as u64 / 2);
    let n = core
        .space
        .write_op(core, fout.as_fd(), offset_out, len, true, || {
            backing::copy_file_range(fin.as_fd(), offset_in, fout.as_fd(), offset_out, len)
        })?;
    Ok(n as u32)
}

/// Writes `data` at `offset`, as much as fits: like write(2), a write that
/// stops part way (a full disk) reports the bytes written, so the caller's
/// count matches the file; an error comes back only if nothing was written.
fn write_some(file: &File, data: &[u8], offset: u64) -> FsResult<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < data.len() {
        match file.write_at(&data[done..], offset + done as u64) {
            Ok(0) if done == 0 => return Err(FsError::EIO),
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) if done > 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}
