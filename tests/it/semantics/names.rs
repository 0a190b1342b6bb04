//! Entry names: collisions get ` (2)`, ` (3)`, … before the extension and
//! never exceed 255 bytes; concurrent deletions get distinct names; non-UTF-8
//! and 255-byte names work throughout.

use super::*;

// ---- 12. entry names -------------------------------------------------------------

#[test]
fn entry_names_avoid_collisions_keep_extensions_and_fit() {
    let m = Mount::new();
    let (g, t) = (m.gallery(), m.trash());
    for d in ["a", "b", "c"] {
        mkdir_p(&g.join(d));
        write(&g.join(d).join("cat.jpg"), d.as_bytes());
    }
    ok(Command::new("rm")
        .arg(g.join("a/cat.jpg"))
        .arg(g.join("b/cat.jpg"))
        .arg(g.join("c/cat.jpg")));
    assert_eq!(
        names(&t),
        name_set(&["cat.jpg", "cat (2).jpg", "cat (3).jpg"])
    );
    for (entry, from) in [("cat.jpg", "a"), ("cat (2).jpg", "b"), ("cat (3).jpg", "c")] {
        assert_eq!(read(&t.join(entry)), from.as_bytes(), "{entry}");
        assert_eq!(
            xattr::get_string(&t.join(entry), "user.trash.original_path"),
            format!("{from}/cat.jpg")
        );
    }

    let odd: &[u8] = b"\xff\xfe.jpg";
    for d in ["a", "b"] {
        write(&bytes_path(&g.join(d), odd), d.as_bytes());
        rm(&bytes_path(&g.join(d), odd));
    }
    let first = bytes_path(&t, odd);
    let second = bytes_path(&t, b"\xff\xfe (2).jpg");
    assert_eq!(read(&first), b"a");
    assert_eq!(read(&second), b"b");
    assert_eq!(
        xattr::get_opt(&first, "user.trash.original_path").unwrap(),
        b"a/\xff\xfe.jpg"
    );
    assert_eq!(
        xattr::get_opt(&second, "user.trash.original_path").unwrap(),
        b"b/\xff\xfe.jpg"
    );

    let long = format!("{}.png", "n".repeat(251));
    assert_eq!(long.len(), 255);
    for d in ["a", "b"] {
        write(&g.join(d).join(&long), d.as_bytes());
        rm(&g.join(d).join(&long));
    }
    assert_eq!(read(&t.join(&long)), b"a");
    let shortened: Vec<OsString> = names(&t)
        .into_iter()
        .filter(|n| n.as_bytes().starts_with(b"nnnn") && n.as_bytes() != long.as_bytes())
        .collect();
    assert_eq!(shortened.len(), 1, "{shortened:?}");
    let s = shortened[0].as_bytes();
    assert!(s.len() <= 255, "entry name of {} bytes", s.len());
    assert!(
        s.ends_with(b" (2).png"),
        "suffix lost: {:?}",
        String::from_utf8_lossy(s)
    );
    assert_eq!(read(&t.join(&shortened[0])), b"b");
    assert_eq!(
        xattr::get_string(&t.join(&shortened[0]), "user.trash.original_path"),
        format!("b/{long}")
    );
    assert_eq!(names(&storage_trash(&m)), names(&t));
}

#[test]
fn concurrent_deletions_get_distinct_names() {
    const N: usize = 40;
    let m = Mount::new();
    let g = m.gallery();
    for i in 0..N {
        mkdir_p(&g.join(format!("d{i}")));
        write(&g.join(format!("d{i}/cat.jpg")), format!("{i}").as_bytes());
    }
    sh(
        &g,
        &format!("i=0; while [ $i -lt {N} ]; do rm d$i/cat.jpg & i=$((i+1)); done; wait"),
    );
    let mut want = name_set(&["cat.jpg"]);
    want.extend((2..=N).map(|n| OsString::from(format!("cat ({n}).jpg"))));
    assert_eq!(names(&m.trash()), want, "log:\n{}", m.log());
    // Each entry holds the file its original path names.
    for e in &want {
        let e = m.trash().join(e);
        let original = xattr::get_string(&e, "user.trash.original_path");
        let i = original
            .strip_prefix('d')
            .and_then(|r| r.strip_suffix("/cat.jpg"))
            .expect("d<i>/cat.jpg");
        assert_eq!(
            read(&e),
            i.as_bytes(),
            "{} came from {original}",
            e.display()
        );
    }
}

// ---- 17. odd names ---------------------------------------------------------------

#[test]
fn non_utf8_and_255_byte_names_work_throughout() {
    let m = Mount::new();
    let (g, t, sg) = (m.gallery(), m.trash(), storage_gallery(&m));
    let long_utf8 = format!("{}.txt", "é".repeat(125) + "x");
    assert_eq!(long_utf8.len(), 255);
    let mut long_raw = vec![0xffu8; 251];
    long_raw.extend_from_slice(b".raw");
    let odd: [&[u8]; 3] = [b"caf\xe9 \xff\xfe.dat", long_utf8.as_bytes(), &long_raw];

    let dir = bytes_path(&g, b"d\xe9\xe9p");
    mkdir_p(&dir);
    for (i, name) in odd.iter().enumerate() {
        write(&bytes_path(&dir, name), format!("content {i}").as_bytes());
    }
    let listed: BTreeSet<Vec<u8>> = names(&dir).into_iter().map(OsString::into_vec).collect();
    let wanted: BTreeSet<Vec<u8>> = odd.iter().map(|n| n.to_vec()).collect();
    assert_eq!(listed, wanted, "listing of odd names");
    let backing: BTreeSet<Vec<u8>> = names(&bytes_path(&sg, b"d\xe9\xe9p"))
        .into_iter()
        .map(OsString::into_vec)
        .collect();
    assert_eq!(backing, wanted, "backing names");
    let too_long = vec![b'z'; 256];
    assert_errno(
        "create with a 256-byte name",
        File::create(bytes_path(&dir, &too_long)),
        libc::ENAMETOOLONG,
    );

    // Rename between odd names, then rm and restore each.
    fs::rename(bytes_path(&dir, odd[0]), bytes_path(&dir, b"\x80renamed")).unwrap();
    fs::rename(bytes_path(&dir, b"\x80renamed"), bytes_path(&dir, odd[0])).unwrap();
    for (i, name) in odd.iter().enumerate() {
        let path = bytes_path(&dir, name);
        let ino = meta(&path).ino;
        rm(&path);
        let entry = bytes_path(&t, name);
        assert_eq!(read(&entry), format!("content {i}").as_bytes());
        let original = xattr::get_opt(&entry, "user.trash.original_path").expect("original_path");
        assert_eq!(original, [&b"d\xe9\xe9p/"[..], name].concat());
        assert!(exists(&storage_trash(&m).join(OsStr::from_bytes(name))));
        mv(&entry, &path);
        assert_eq!(read(&path), format!("content {i}").as_bytes());
        assert_eq!(meta(&path).ino, ino);
    }
    assert!(names(&t).is_empty());

    // A directory with an odd name, trashed and restored whole.
    let sub = bytes_path(&dir, odd[2]);
    fs::remove_file(&sub).unwrap();
    mkdir_p(&sub);
    write(&bytes_path(&sub, odd[1]), b"nested");
    mv(&dir, &bytes_path(&t, odd[0]));
    assert_eq!(
        read(&bytes_path(
            &bytes_path(&bytes_path(&t, odd[0]), odd[2]),
            odd[1]
        )),
        b"nested"
    );
    mv(&bytes_path(&t, odd[0]), &dir);
    assert_eq!(read(&bytes_path(&sub, odd[1])), b"nested");
}
