//! Which entries `list` shows and `restore --under` restores: `--under
//! PATH` (the original path is PATH or below it), `--since TIME` and
//! `--until TIME` (when it was deleted, `crate::at`), `--reason`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use galleryfs::contract::{self, Reason};

use crate::at::Time;
use crate::entries::Entry;
use crate::escape::escape;
use crate::mounts::Located;

/// What an entry must be to be chosen; an empty filter takes every entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Relative to `gallery/` (empty: the whole gallery).
    pub under: Option<Vec<u8>>,
    pub since: Option<Time>,
    pub until: Option<Time>,
    /// Any of these (none: any reason).
    pub reasons: Vec<Reason>,
}

impl Filter {
    /// Whether `e` passes. A value the filter asks about that is unknown
    /// (the original path of a symlink entry, an unreadable time) fails it.
    pub fn matches(&self, e: &Entry) -> bool {
        if let Some(under) = &self.under
            && !e.original_path.as_deref().is_ok_and(|p| is_under(p, under))
        {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(deleted) = e.deleted_at else {
                return false;
            };
            if self.since.as_ref().is_some_and(|t| !t.precedes(deleted))
                || self.until.as_ref().is_some_and(|t| !t.covers(deleted))
            {
                return false;
            }
        }
        self.reasons.is_empty() || e.reason.is_some_and(|r| self.reasons.contains(&r))
    }

    /// The filter in words, for messages: `under gallery/albums, deleted
    /// since 2h, until 14:00, reason overwritten`; empty for no filter.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(under) = &self.under {
            parts.push(format!("under {}", gallery_display(under)));
        }
        let mut when = Vec::new();
        if let Some(since) = &self.since {
            when.push(format!("since {}", since.text));
        }
        if let Some(until) = &self.until {
            when.push(format!("until {}", until.text));
        }
        if !when.is_empty() {
            parts.push(format!("deleted {}", when.join(" ")));
        }
        if !self.reasons.is_empty() {
            let names: Vec<&str> = self.reasons.iter().map(|r| r.as_str()).collect();
            parts.push(format!("reason {}", names.join(" or ")));
        }
        parts.join(", ")
    }
}

/// `--since` after `--until` takes in nothing: a usage error, said so.
pub(crate) fn check_window(since: Option<&Time>, until: Option<&Time>) -> Result<(), String> {
    match (since, until) {
        (Some(s), Some(u)) if s.earliest > u.latest => Err(format!(
            "--since {} is after --until {}: no deletion is in between",
            s.text, u.text
        )),
        _ => Ok(()),
    }
}

/// The original path `--under PATH` stands for, relative to `gallery/`
/// (empty for `gallery/` itself), from where PATH lies. PATH need not exist.
pub(crate) fn under_of(located: &Located, arg: &Path) -> Result<Vec<u8>, String> {
    let inner = &located.inner;
    match inner.strip_prefix(contract::GALLERY) {
        Ok(rest) if rest.components().all(|c| matches!(c, Component::Normal(_))) => {
            Ok(rest.as_os_str().as_bytes().to_vec())
        }
        _ => Err(format!(
            "--under must be a path in gallery/ ({})",
            escape(arg.as_os_str().as_bytes())
        )),
    }
}

/// Whether `original` is `prefix` or below it, component by component
/// (`albums/2026` is under `albums`, `albums2` is not; an empty prefix is
/// the whole gallery).
pub(crate) fn is_under(original: &[u8], prefix: &[u8]) -> bool {
    Path::new(OsStr::from_bytes(original)).starts_with(Path::new(OsStr::from_bytes(prefix)))
}

/// `gallery/albums`, escaped; `gallery` for the whole gallery.
pub(crate) fn gallery_display(relative: &[u8]) -> String {
    if relative.is_empty() {
        contract::GALLERY.to_string()
    } else {
        format!("{}/{}", contract::GALLERY, escape(relative))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::tests::fake;
    use crate::mounts::Galleryfs;
    use std::path::PathBuf;

    fn time(text: &str) -> Time {
        crate::at::parse(text).unwrap()
    }

    #[test]
    fn under_is_by_whole_components() {
        assert!(is_under(b"albums/2026/cat.jpg", b"albums"));
        assert!(is_under(b"albums/2026/cat.jpg", b"albums/2026"));
        assert!(is_under(b"albums", b"albums"));
        assert!(is_under(b"albums/", b"albums"));
        assert!(is_under(b"albums", b"albums/"));
        assert!(is_under(b"anything", b""));
        assert!(!is_under(b"albums2/cat.jpg", b"albums"));
        assert!(!is_under(b"albums", b"albums/2026"));
        assert!(!is_under(b"other/albums/x", b"albums"));
        assert!(is_under(b"caf\xe9/x", b"caf\xe9"));
    }

    #[test]
    fn under_path_must_be_in_the_gallery() {
        let located = |inner: &str| Located {
            fs: Galleryfs {
                root: PathBuf::from("/mnt/g"),
                dev: b"0:1".to_vec(),
            },
            inner: PathBuf::from(inner),
        };
        let arg = Path::new("x");
        assert_eq!(
            under_of(&located("gallery/albums/2026"), arg).unwrap(),
            b"albums/2026"
        );
        assert_eq!(under_of(&located("gallery"), arg).unwrap(), b"");
        for outside in ["", ".trash", ".trash/cat.jpg", "galleryx"] {
            let err = under_of(&located(outside), arg).unwrap_err();
            assert_eq!(err, "--under must be a path in gallery/ (x)", "{outside}");
        }
    }

    #[test]
    fn filters_by_place_time_and_reason() {
        let mut cat = fake(
            b"cat.jpg",
            Some("albums/cat.jpg"),
            Some("2026-11-26T10:00:00Z"),
        );
        cat.reason = Some(Reason::Overwritten);
        let dog = fake(
            b"dog.jpg",
            Some("other/dog.jpg"),
            Some("2026-11-26T12:00:00Z"),
        );
        let link = fake(b"link", None, None);
        let all = [&cat, &dog, &link];
        let names = |f: &Filter| -> Vec<String> {
            all.iter()
                .filter(|e| f.matches(e))
                .map(|e| e.name.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(&Filter::default()), ["cat.jpg", "dog.jpg", "link"]);
        let under = Filter {
            under: Some(b"albums".to_vec()),
            ..Filter::default()
        };
        assert_eq!(names(&under), ["cat.jpg"]);
        let whole = Filter {
            under: Some(Vec::new()),
            ..Filter::default()
        };
        assert_eq!(names(&whole), ["cat.jpg", "dog.jpg"]);
        let since = Filter {
            since: Some(time("2026-11-26T11:00:00Z")),
            ..Filter::default()
        };
        assert_eq!(names(&since), ["dog.jpg"]);
        let until = Filter {
            until: Some(time("2026-11-26T11:00:00Z")),
            ..Filter::default()
        };
        assert_eq!(names(&until), ["cat.jpg"]);
        let both_ends = Filter {
            since: Some(time("2026-11-26T10:00:00Z")),
            until: Some(time("2026-11-26T12:00:00Z")),
            ..Filter::default()
        };
        assert_eq!(names(&both_ends), ["cat.jpg", "dog.jpg"]);
        let reason = Filter {
            reasons: vec![Reason::Overwritten],
            ..Filter::default()
        };
        assert_eq!(names(&reason), ["cat.jpg"]);
        let reasons = Filter {
            reasons: vec![Reason::Deleted, Reason::Overwritten],
            ..Filter::default()
        };
        assert_eq!(names(&reasons), ["cat.jpg", "dog.jpg"]);
    }

    #[test]
    fn filters_describe_themselves() {
        assert_eq!(Filter::default().describe(), "");
        let f = Filter {
            under: Some(b"albums".to_vec()),
            since: Some(time("2h")),
            until: Some(time("2026-11-26")),
            reasons: vec![Reason::Deleted, Reason::Replaced],
        };
        assert_eq!(
            f.describe(),
            "under gallery/albums, deleted since 2h until 2026-11-26, reason deleted or replaced"
        );
        let whole = Filter {
            under: Some(Vec::new()),
            ..Filter::default()
        };
        assert_eq!(whole.describe(), "under gallery");
    }

    #[test]
    fn since_after_until_is_refused() {
        let (early, late) = (time("2026-11-25"), time("2026-11-26"));
        assert!(check_window(Some(&early), Some(&late)).is_ok());
        assert!(check_window(Some(&early), Some(&early)).is_ok());
        assert!(check_window(Some(&late), None).is_ok());
        assert_eq!(
            check_window(Some(&late), Some(&early)).unwrap_err(),
            "--since 2026-11-26 is after --until 2026-11-25: no deletion is in between"
        );
    }
}
