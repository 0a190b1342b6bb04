//! Kept overwrites (`fs::keep`): the content an `O_TRUNC` open, a truncation
//! or a punched hole destroys becomes an `overwritten` entry first, when it
//! holds data. "Holds data" is what `SEEK_DATA` says on the backing file, so
//! the model follows each file's blocks: a write allocates the blocks it
//! touches, a truncation frees the blocks past the new end, a punched hole
//! the blocks it covers whole; a block never written is a hole (a file
//! extended by a growing truncate or by a write past its end has holes
//! there). A copy (an entry kept by copy, a reflink or the inode itself:
//! the mount may use any) has data where the original had data, and where
//! the original had holes either (`Alloc::Unknown`); an operation whose
//! outcome depends on such a block is skipped (`Fail::Skip`), as is a hole
//! punched past the end of a file whose last block the backing filesystems
//! treat differently.

use super::*;

/// An allocated block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alloc {
    /// Written: `SEEK_DATA` finds it.
    Data,
    /// Copied from a hole: data or a hole, depending on how it was copied.
    Unknown,
}

/// Which overwrites the mount keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `overwrite_interval=0`: every one.
    Every,
    /// The default `overwrite_interval` (5 min, longer than any sequence):
    /// none of a path that already has a live `overwritten` entry.
    FirstPerPath,
}

/// What is about to happen to a file's content (cf. `keep::Overwrite`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Its size becomes this.
    Truncate(u64),
    /// `len` bytes from `offset` are punched out.
    Range { offset: u64, len: u64 },
}

/// Whether some blocks hold data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holds {
    No,
    Yes,
    Unknown,
}

impl Model {
    fn size_of(&self, ino: Ino) -> u64 {
        match &self.inode(ino).kind {
            Kind::File(d) => d.len() as u64,
            _ => 0,
        }
    }

    /// The size of the regular file at `path`, if it is one (for the generator).
    pub fn file_size(&self, path: &str) -> Option<u64> {
        match self.resolve(path) {
            Ok(Res {
                child: Some(Obj::Ino(i)),
                ..
            }) if matches!(self.inode(i).kind, Kind::File(_)) => Some(self.size_of(i)),
            _ => None,
        }
    }

    /// `len` bytes were written at `offset`: their blocks hold data.
    pub(super) fn wrote(&mut self, ino: Ino, offset: u64, len: u64) {
        if len == 0 {
            return;
        }
        let b = self.block;
        let blocks = &mut self.inode_mut(ino).blocks;
        for i in offset / b..=(offset + len - 1) / b {
            blocks.insert(i, Alloc::Data);
        }
    }

    /// The file became `size` bytes long: the blocks past its end are freed
    /// (the one it ends in stays, zeroed past the end).
    pub(super) fn resized(&mut self, ino: Ino, size: u64) {
        let keep = size.div_ceil(self.block);
        self.inode_mut(ino).blocks.retain(|&i, _| i < keep);
    }

    /// Whether the blocks a hole punched at `offset..offset + len` into
    /// file `ino` frees are the same on every backing filesystem: a range
    /// past the end frees the file's last block on ext4 (it punches to the
    /// end of that page) but not on tmpfs (it frees whole pages of the range
    /// only). Skipped when that decides.
    pub(super) fn punch_decided(&self, ino: Ino, offset: u64, len: u64) -> R<()> {
        let (b, size) = (self.block, self.size_of(ino));
        let end = offset.saturating_add(len);
        if offset < size
            && end > size
            && end < size.div_ceil(b) * b
            && offset.div_ceil(b) <= (size - 1) / b
        {
            return Err(Fail::Skip);
        }
        Ok(())
    }

    /// `fallocate(PUNCH_HOLE | KEEP_SIZE, offset, len)` on file `ino`
    /// (`punch_decided`): zeroes the range, frees the blocks it covers
    /// whole, and with a range past the end the file's last block.
    pub(super) fn punched(&mut self, ino: Ino, offset: u64, len: u64) {
        let (b, size) = (self.block, self.size_of(ino));
        if offset >= size {
            return;
        }
        let end = offset.saturating_add(len);
        let first = offset.div_ceil(b);
        let past = if end > size { u64::MAX } else { end / b };
        let upto = end.min(size) as usize;
        let inode = self.inode_mut(ino);
        inode.blocks.retain(|&i, _| i < first || i >= past);
        if let Kind::File(d) = &mut inode.kind {
            d[offset as usize..upto].fill(0);
        }
    }

    /// Whether bytes `start..end` of `ino` hold data (`SEEK_DATA` from
    /// `start` finds something before `end`).
    fn holds(&self, ino: Ino, start: u64, end: u64) -> Holds {
        let b = self.block;
        let mut out = Holds::No;
        for (_, a) in self.inode(ino).blocks.range(start / b..end.div_ceil(b)) {
            match a {
                Alloc::Data => return Holds::Yes,
                Alloc::Unknown => out = Holds::Unknown,
            }
        }
        out
    }

    /// The gallery paths of `ino` (relative to `gallery/`), sorted.
    fn gallery_names(&self, ino: Ino) -> Vec<String> {
        let mut out = Vec::new();
        let mut dirs = vec![(String::new(), self.gallery)];
        while let Some((path, dir)) = dirs.pop() {
            if let Kind::Dir(c) = &self.inode(dir).kind {
                for (name, &child) in c {
                    let p = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}/{name}")
                    };
                    if child == ino {
                        out.push(p.clone());
                    }
                    dirs.push((p, child));
                }
            }
        }
        out.sort();
        out
    }

    /// Whether `ino` also has a name in the trash.
    fn has_trash_name(&self, ino: Ino) -> bool {
        self.trash.values().any(|e| {
            let mut inos = Vec::new();
            self.walk_inos(e.ino, &mut inos);
            inos.contains(&ino)
        })
    }

    /// Before `change` to gallery file `ino`: keeps its whole content as an
    /// `overwritten` entry if the change destroys data (see the module doc).
    /// `whole` says the change may move the inode itself to the trash (an
    /// `O_TRUNC` open or `truncate(2)` to 0, of a file with one name), which
    /// renumbers it at the next remount.
    ///
    /// The entry's original path is the name galleryfs knows the inode by
    /// first: of a file with one name, that name; of a hard-linked one, any
    /// of its gallery names, and if it has a trash name too, possibly that
    /// one, which keeps nothing (which looks like a bug; not accepted when
    /// `strict`). Those outcomes are numbered (gallery names
    /// sorted, then "nothing"); `keep_choice` picks one, and `outcomes`
    /// lists them, so that the runner can follow the mount.
    pub(super) fn overwrite(
        &mut self,
        ino: Ino,
        change: Change,
        whole: bool,
        clock: Clock,
    ) -> R<()> {
        let size = self.size_of(ino);
        let (start, end) = match change {
            Change::Truncate(to) => (to, size),
            Change::Range { offset, len } => (offset, offset.saturating_add(len).min(size)),
        };
        if start >= end {
            return Ok(());
        }
        // Nothing to lose if st_blocks is 0 (the whole file: the xattrs the
        // model sets fit in the inode, so every allocated block is a data
        // block), or if the part holds only holes and zeros.
        if (start, end) != (0, size) {
            // A part of the file is decided by its bytes: a range of holes
            // and zeros loses nothing (galleryfs reads it to tell).
            let zeros = match &self.inode(ino).kind {
                Kind::File(d) => d[start as usize..end as usize].iter().all(|&b| b == 0),
                _ => true,
            };
            if zeros {
                self.holes_only += 1;
                return Ok(());
            }
        } else {
            match self.holds(ino, start, end) {
                Holds::No => {
                    self.holes_only += 1;
                    return Ok(());
                }
                Holds::Unknown => return Err(Fail::Skip),
                Holds::Yes => {}
            }
        }
        let mut outcomes: Vec<Option<String>> =
            self.gallery_names(ino).into_iter().map(Some).collect();
        if outcomes.is_empty() || (!self.strict && self.has_trash_name(ino)) {
            outcomes.push(None);
        }
        let pick = self.keep_choice.unwrap_or(0).min(outcomes.len() - 1);
        let chosen = outcomes[pick].clone();
        self.outcomes = outcomes;
        let Some(original) = chosen else {
            return Ok(());
        };
        if self.policy == Policy::FirstPerPath
            && self
                .trash
                .values()
                .any(|e| e.reason == Reason::Overwritten && e.original == original)
        {
            return Ok(());
        }
        let old = self.inode(ino).clone();
        let blocks = (0..size.div_ceil(self.block))
            .map(|i| (i, old.blocks.get(&i).copied().unwrap_or(Alloc::Unknown)))
            .collect();
        let copy = self.alloc(old.kind.clone(), old.mode);
        let inode = self.inode_mut(copy);
        inode.xattrs = old.xattrs;
        inode.blocks = blocks;
        let base = original.rsplit('/').next().unwrap_or(&original);
        let name = self.first_free(base);
        self.add_entry(name, copy, &original, clock, Reason::Overwritten);
        self.kept += 1;
        if whole && self.nlink_of(ino) == 1 {
            *self.renumbered.entry(ino).or_insert(0) += 1;
            *self.renumbered.entry(copy).or_insert(0) += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(m: &mut Model, name: &str) -> Ino {
        let ino = m.alloc(Kind::File(Vec::new()), 0o644);
        m.insert_name(Parent::Dir(m.gallery), name, ino);
        ino
    }

    fn clock() -> Clock {
        Clock {
            lo: 0,
            hi: 0,
            born: Instant::now(),
        }
    }

    #[test]
    fn data_and_holes_come_in_blocks() {
        let mut m = Model::new(0o022, 4096, Policy::Every);
        let a = file(&mut m, "a");
        m.write(a, 5000, &[1; 10]);
        assert_eq!(m.holds(a, 0, 4096), Holds::No);
        assert_eq!(m.holds(a, 4095, 4097), Holds::Yes);
        // The block holds data past what was written.
        assert_eq!(m.holds(a, 6000, 8000), Holds::Yes);
        m.file_mut(a).resize(4097, 0);
        m.resized(a, 4097);
        assert_eq!(m.holds(a, 4096, 4097), Holds::Yes);
        m.file_mut(a).resize(4096, 0);
        m.resized(a, 4096);
        assert_eq!(m.holds(a, 0, 4096), Holds::No);
    }

    #[test]
    fn punched_holes_free_whole_blocks_only() {
        let mut m = Model::new(0o022, 4096, Policy::Every);
        let a = file(&mut m, "a");
        m.write(a, 0, &[1; 10_000]);
        m.punched(a, 100, 5000);
        assert_eq!(
            m.inode(a).blocks.keys().copied().collect::<Vec<_>>(),
            [0, 1, 2]
        );
        m.punched(a, 4096, 4096);
        assert_eq!(
            m.inode(a).blocks.keys().copied().collect::<Vec<_>>(),
            [0, 2]
        );
        // Past the end: the last block goes too (ext4), but only a range
        // from its start or before decides it the same on tmpfs.
        assert_eq!(m.punch_decided(a, 8192, 1900), Err(Fail::Skip));
        assert_eq!(m.punch_decided(a, 8193, 1900), Ok(()));
        assert_eq!(m.punch_decided(a, 8192, 4096), Ok(()));
        m.punched(a, 8192, 4096);
        assert_eq!(m.inode(a).blocks.keys().copied().collect::<Vec<_>>(), [0]);
        assert_eq!(m.size_of(a), 10_000);
    }

    #[test]
    fn an_overwrite_keeps_the_whole_content_once_per_path_in_a_burst() {
        let mut m = Model::new(0o022, 4096, Policy::FirstPerPath);
        let a = file(&mut m, "a.jpg");
        m.write(a, 0, b"cat");
        m.overwrite(a, Change::Truncate(0), true, clock()).unwrap();
        let e = &m.trash["a.jpg"];
        assert_eq!(
            (e.original.as_str(), e.reason),
            ("a.jpg", Reason::Overwritten)
        );
        assert!(matches!(&m.inode(e.ino).kind, Kind::File(d) if d == b"cat"));
        assert_eq!(m.renumbered.len(), 2);
        m.overwrite(a, Change::Truncate(1), false, clock()).unwrap();
        assert_eq!(m.trash.len(), 1);
        m.policy = Policy::Every;
        m.overwrite(a, Change::Truncate(1), false, clock()).unwrap();
        assert!(m.trash.contains_key("a (2).jpg"));
    }
}
