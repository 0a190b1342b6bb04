//! What each operation does to the model (`Model::apply`): the semantics
//! table of issue 2 for create, write, truncate, mkdir, link, symlink,
//! xattrs, unlink, rmdir, rm -r and rename (into, out of and inside the
//! trash), with the kernel's checks first, and the overwrites kept in the
//! trash (`keep`).

use super::keep::Change;
use super::*;

impl Model {
    /// Applies `op`; `clock` says when it ran. Errors leave the model unchanged.
    pub fn apply(&mut self, op: &Op, clock: Clock) -> R<()> {
        self.outcomes.clear();
        match op {
            Op::Create {
                path,
                mode,
                excl,
                data,
            } => self.create(path, *mode, *excl, &data_bytes(data), clock),
            Op::OpenTrunc { path, access, data } => {
                let r = self.resolve(path)?;
                if r.child.is_none() {
                    return err(libc::ENOENT);
                }
                // O_TRUNC asks for write access, whatever the access mode.
                let ino = self.open_for_write(path)?;
                self.overwrite(ino, Change::Truncate(0), true, clock)?;
                self.file_mut(ino).clear();
                self.resized(ino, 0);
                if *access != libc::O_RDONLY {
                    self.write(ino, 0, &data_bytes(data));
                }
                Ok(())
            }
            Op::Write { path, offset, data } => {
                let ino = self.open_for_write(path)?;
                self.write(ino, *offset, &data_bytes(data));
                Ok(())
            }
            Op::Punch { path, offset, len } => {
                let ino = self.open_for_write(path)?;
                if *len == 0 {
                    return err(libc::EINVAL);
                }
                self.punch_decided(ino, *offset, *len)?;
                let change = Change::Range {
                    offset: *offset,
                    len: *len,
                };
                self.overwrite(ino, change, false, clock)?;
                self.punched(ino, *offset, *len);
                Ok(())
            }
            Op::Truncate { path, len, via_fd } => {
                let ino = if *via_fd {
                    self.open_for_write(path)?
                } else {
                    let r = self.resolve(path)?;
                    let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
                    if self.is_dir(c) {
                        return err(libc::EISDIR);
                    }
                    if !self.writable(&r) {
                        return err(libc::EROFS);
                    }
                    let Obj::Ino(i) = c else { unreachable!() };
                    i
                };
                // Through the fd, or to a size other than 0: a copy.
                let whole = !*via_fd && *len == 0;
                self.overwrite(ino, Change::Truncate(*len), whole, clock)?;
                self.file_mut(ino).resize(*len as usize, 0);
                self.resized(ino, *len);
                Ok(())
            }
            Op::Mkdir { path, mode } => {
                let r = self.creatable(path)?;
                let Parent::Dir(d) = r.parent else {
                    unreachable!()
                };
                let mut mode = mode & 0o1777 & !self.umask;
                if self.inode(d).mode & libc::S_ISGID != 0 {
                    mode |= libc::S_ISGID;
                }
                let ino = self.alloc(Kind::Dir(BTreeMap::new()), mode);
                self.insert_name(r.parent, &r.name, ino);
                Ok(())
            }
            Op::Symlink { target, path } => {
                let r = self.creatable(path)?;
                let ino = self.alloc(Kind::Symlink(target.clone()), 0o777);
                self.insert_name(r.parent, &r.name, ino);
                Ok(())
            }
            Op::Link { from, to } => {
                let rs = self.resolve(from)?;
                let src = rs.child.ok_or(Fail::Errno(libc::ENOENT))?;
                let rd = self.resolve(to)?;
                if rd.child.is_some() {
                    return err(libc::EEXIST);
                }
                if self.is_dir(src) {
                    return err(libc::EPERM);
                }
                if !self.writable(&rs) {
                    // A new name would change the entry (its link count).
                    return err(libc::EROFS);
                }
                match rd.place {
                    Place::Gallery => {}
                    Place::Root => return err(libc::EPERM),
                    _ => return err(libc::EROFS),
                }
                let Obj::Ino(i) = src else { unreachable!() };
                self.insert_name(rd.parent, &rd.name, i);
                Ok(())
            }
            Op::Unlink { path } => self.unlink(path, clock),
            Op::Rmdir { path } => self.rmdir(path),
            Op::RemoveTree { path } => self.remove_tree(path, clock),
            Op::Rename { from, to, flags } => self.rename(from, to, *flags, clock),
            Op::Chmod { path, mode } => {
                let r = self.resolve(path)?;
                let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
                match (r.place, c) {
                    (_, Obj::Trash) => err(libc::EPERM),
                    (Place::TrashEntry | Place::InTrash, _) if !self.writable(&r) => {
                        err(libc::EROFS)
                    }
                    (_, Obj::Ino(i)) => {
                        self.inode_mut(i).mode = mode & 0o7777;
                        Ok(())
                    }
                }
            }
            Op::SetXattr {
                path,
                name,
                value,
                flags,
            } => {
                let i = self.xattr_target(path, name)?;
                let exists = self.inode(i).xattrs.contains_key(name);
                if flags & libc::XATTR_CREATE != 0 && exists {
                    return err(libc::EEXIST);
                }
                if flags & libc::XATTR_REPLACE != 0 && !exists {
                    return err(libc::ENODATA);
                }
                self.inode_mut(i)
                    .xattrs
                    .insert(name.clone(), value.clone().into_bytes());
                Ok(())
            }
            Op::RemoveXattr { path, name } => {
                let i = self.xattr_target(path, name)?;
                match self.inode_mut(i).xattrs.remove(name) {
                    Some(_) => Ok(()),
                    None => err(libc::ENODATA),
                }
            }
            Op::Remount => Ok(()),
            Op::TimePasses => {
                self.trash.clear();
                Ok(())
            }
        }
    }

    /// pwrite of `data` at `offset` into file `ino`.
    pub(super) fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) {
        write_at(self.file_mut(ino), offset as usize, data);
        self.wrote(ino, offset, data.len() as u64);
    }

    pub(super) fn file_mut(&mut self, ino: Ino) -> &mut Vec<u8> {
        match &mut self.inode_mut(ino).kind {
            Kind::File(d) => d,
            _ => panic!("model: not a file"),
        }
    }

    /// `open(path, O_WRONLY | O_NOFOLLOW)`.
    fn open_for_write(&self, path: &str) -> R<Ino> {
        let r = self.resolve(path)?;
        let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if self.is_symlink(c) {
            return err(libc::ELOOP);
        }
        if self.is_dir(c) {
            return err(libc::EISDIR);
        }
        if !self.writable(&r) {
            return err(libc::EROFS);
        }
        let Obj::Ino(i) = c else { unreachable!() };
        Ok(i)
    }

    /// The checks of mkdir/symlink/mknod: a free name in a writable directory.
    fn creatable(&self, path: &str) -> R<Res> {
        let r = self.resolve(path)?;
        if r.child.is_some() {
            return err(libc::EEXIST);
        }
        match r.place {
            Place::Root => err(libc::EPERM),
            Place::Gallery => Ok(r),
            _ => err(libc::EROFS),
        }
    }

    fn create(&mut self, path: &str, mode: u32, excl: bool, data: &[u8], clock: Clock) -> R<()> {
        let r = self.resolve(path)?;
        match r.child {
            Some(_) => {
                if excl {
                    return err(libc::EEXIST);
                }
                let i = self.open_for_write(path)?;
                // O_TRUNC of an existing file.
                self.overwrite(i, Change::Truncate(0), true, clock)?;
                self.file_mut(i).clear();
                self.resized(i, 0);
                self.write(i, 0, data);
                Ok(())
            }
            None => {
                match r.place {
                    Place::Root => return err(libc::EPERM),
                    Place::Gallery => {}
                    _ => return err(libc::EROFS),
                }
                let ino = self.alloc(Kind::File(Vec::new()), mode & 0o7777 & !self.umask);
                self.write(ino, 0, data);
                self.insert_name(r.parent, &r.name, ino);
                Ok(())
            }
        }
    }

    fn xattr_target(&self, path: &str, name: &str) -> R<Ino> {
        let r = self.resolve(path)?;
        let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if self.is_symlink(c) {
            // The VFS: user.* only on regular files and directories.
            return err(libc::EPERM);
        }
        match (r.place, c) {
            (_, Obj::Trash) => err(libc::EPERM),
            (Place::TrashEntry | Place::InTrash, _) if !self.writable(&r) => err(libc::EROFS),
            (_, Obj::Ino(i)) => {
                if name.starts_with("user.trash.") {
                    return err(libc::ENOTSUP);
                }
                Ok(i)
            }
        }
    }

    fn unlink(&mut self, path: &str, clock: Clock) -> R<()> {
        let r = self.resolve(path)?;
        let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if self.is_dir(c) {
            return err(libc::EISDIR);
        }
        let Obj::Ino(i) = c else { unreachable!() };
        match r.place {
            Place::Root => err(libc::EPERM),
            Place::Gallery => {
                let nlink = self.nlink_of(i);
                self.remove_name(r.parent, &r.name);
                if nlink == 1 {
                    let entry = self.first_free(&r.name);
                    let original = Self::gallery_relative(path);
                    self.add_removed(entry, i, original, clock, Reason::Deleted);
                }
                Ok(())
            }
            Place::TrashEntry | Place::InTrash => {
                self.remove_name(r.parent, &r.name);
                Ok(())
            }
        }
    }

    fn rmdir(&mut self, path: &str) -> R<()> {
        let r = self.resolve(path)?;
        let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if !self.is_dir(c) {
            return err(libc::ENOTDIR);
        }
        if r.place == Place::Root {
            return err(libc::EPERM);
        }
        if !self.children(c).is_empty() {
            return err(libc::ENOTEMPTY);
        }
        self.remove_name(r.parent, &r.name);
        Ok(())
    }

    /// `rm -r`: children in sorted order, depth first; stops at the first error.
    fn remove_tree(&mut self, path: &str, clock: Clock) -> R<()> {
        let r = self.resolve(path)?;
        let c = r.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if self.is_dir(c) {
            for name in self.children(c) {
                self.remove_tree(&format!("{path}/{name}"), clock)?;
            }
            self.rmdir(path)
        } else {
            self.unlink(path, clock)
        }
    }

    fn rename(&mut self, from: &str, to: &str, flags: u32, clock: Clock) -> R<()> {
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let rs = self.resolve(from)?;
        let rd = self.resolve(to)?;
        let src = rs.child.ok_or(Fail::Errno(libc::ENOENT))?;
        if flags & libc::RENAME_NOREPLACE != 0 && rd.child.is_some() {
            return err(libc::EEXIST);
        }
        if exchange && rd.child.is_none() {
            return err(libc::ENOENT);
        }
        let (sdir, ddir) = (parent_path(from), parent_path(to));
        if sdir != ddir {
            if is_prefix(from, ddir) {
                return err(libc::EINVAL);
            }
            if rd.child.is_some() && is_prefix(to, sdir) {
                return err(if exchange {
                    libc::EINVAL
                } else {
                    libc::ENOTEMPTY
                });
            }
        }
        if rd.child == Some(src) {
            // Two names of one inode: POSIX says do nothing.
            return Ok(());
        }
        if let Some(dst) = rd.child
            && !exchange
        {
            match (self.is_dir(src), self.is_dir(dst)) {
                (true, false) => return err(libc::ENOTDIR),
                (false, true) => return err(libc::EISDIR),
                _ => {}
            }
        }
        match (rs.place, rd.place) {
            (Place::Root, _) | (_, Place::Root) => err(libc::EPERM),
            (Place::Gallery, Place::Gallery) => self.rename_into_gallery(&rs, &rd, flags, clock),
            (Place::Gallery, Place::TrashEntry) => {
                if exchange {
                    return err(libc::EINVAL);
                }
                if self.trash.contains_key(&rd.name) {
                    return err(libc::EEXIST);
                }
                let ino = self.remove_name(rs.parent, &rs.name);
                let original = Self::gallery_relative(from);
                self.add_entry(rd.name.clone(), ino, original, clock, Reason::Deleted);
                Ok(())
            }
            (Place::TrashEntry, Place::Gallery) => {
                if exchange {
                    return err(libc::EINVAL);
                }
                self.rename_into_gallery(&rs, &rd, flags, clock)
            }
            (Place::TrashEntry, Place::TrashEntry) => {
                if exchange {
                    return err(libc::EINVAL);
                }
                if rs.name == rd.name {
                    return Ok(());
                }
                if self.trash.contains_key(&rd.name) {
                    return err(libc::EEXIST);
                }
                let e = self.trash.remove(&rs.name).expect("entry");
                self.trash.insert(rd.name.clone(), e);
                Ok(())
            }
            (Place::InTrash, Place::Gallery) => {
                // A partial restore: one piece out of a trashed directory.
                if exchange {
                    return err(libc::EINVAL);
                }
                self.rename_into_gallery(&rs, &rd, flags, clock)
            }
            _ => err(libc::EROFS),
        }
    }

    /// Puts `rs` at `rd` in the gallery; a file it replaces (with no other
    /// link) becomes a trash entry.
    fn rename_into_gallery(&mut self, rs: &Res, rd: &Res, flags: u32, clock: Clock) -> R<()> {
        let Some(Obj::Ino(src)) = rs.child else {
            unreachable!("sources in the gallery or trash are inodes")
        };
        if flags & libc::RENAME_EXCHANGE != 0 {
            let Some(Obj::Ino(dst)) = rd.child else {
                unreachable!()
            };
            self.remove_name(rs.parent, &rs.name);
            self.remove_name(rd.parent, &rd.name);
            self.insert_name(rs.parent, &rs.name, dst);
            self.insert_name(rd.parent, &rd.name, src);
            return Ok(());
        }
        let replaces = flags & libc::RENAME_NOREPLACE == 0;
        if let Some(Obj::Ino(dst)) = rd.child {
            if self.is_dir(Obj::Ino(dst)) {
                if !self.children(Obj::Ino(dst)).is_empty() {
                    return err(libc::ENOTEMPTY);
                }
                self.remove_name(rd.parent, &rd.name);
            } else if replaces && self.nlink_of(dst) == 1 {
                let entry = self.first_free(&rd.name);
                self.remove_name(rd.parent, &rd.name);
                let original = Self::gallery_relative(&rd.path);
                self.add_removed(entry, dst, original, clock, Reason::Replaced);
            } else {
                self.remove_name(rd.parent, &rd.name);
            }
        }
        self.remove_name(rs.parent, &rs.name);
        self.insert_name(rd.parent, &rd.name, src);
        Ok(())
    }
}

fn write_at(file: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    if file.len() < offset + data.len() {
        file.resize(offset + data.len(), 0);
    }
    file[offset..offset + data.len()].copy_from_slice(data);
}
