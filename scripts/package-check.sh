#!/usr/bin/env bash
# Builds the .deb (scripts/package.sh) and checks it as a user would meet it:
# unpacked into a scratch root (dpkg -x), every file lands where README.md's
# "Install" section says, `Depends` names fuse3, both man pages render with
# man -l, the completions load in bash, zsh and fish parse theirs, and the
# shipped systemd units pass `systemd-analyze verify`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/package.sh >/dev/null
deb=$(ls -t target/debian/galleryfs_*.deb | head -n1)
root=$(mktemp -d /tmp/galleryfs-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"

fail() {
    echo "package-check: $*" >&2
    exit 1
}

depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == fuse3* ]] || fail "Depends is '$depends', expected fuse3 first"

# Where README.md's Install section says the package puts things.
for f in usr/bin/galleryfs usr/bin/gallery-trash; do
    [ -x "$root/$f" ] || fail "/$f is missing or not executable"
done
for f in \
    usr/share/man/man1/galleryfs.1.gz \
    usr/share/man/man1/gallery-trash.1.gz \
    usr/share/man/man1/gallery-trash-restore.1.gz \
    usr/share/bash-completion/completions/galleryfs \
    usr/share/bash-completion/completions/gallery-trash \
    usr/share/zsh/vendor-completions/_galleryfs \
    usr/share/zsh/vendor-completions/_gallery-trash \
    usr/share/fish/vendor_completions.d/galleryfs.fish \
    usr/share/fish/vendor_completions.d/gallery-trash.fish \
    usr/lib/systemd/system/galleryfs@.service \
    usr/share/doc/galleryfs/examples/srv-gallery.mount \
    usr/share/doc/galleryfs/README.md; do
    [ -s "$root/$f" ] || fail "/$f is missing or empty"
    grep -qF "/$f" README.md || fail "README.md does not say where /$f goes"
done

# The man pages render, and carry what --help says.
for page in galleryfs gallery-trash; do
    text=$(MANWIDTH=80 man -l "$root/usr/share/man/man1/$page.1.gz" 2>&1) ||
        fail "man -l $page.1.gz failed: $text"
    grep -q '^NAME' <<<"$text" || fail "$page(1) has no NAME section"
done
man_fs=$(MANWIDTH=200 man -l "$root/usr/share/man/man1/galleryfs.1.gz" 2>/dev/null)
for needle in 'MOUNT OPTIONS' 'retention=DURATION' 'auto_unmount' 'fuse.galleryfs'; do
    grep -qF -- "$needle" <<<"$man_fs" || fail "galleryfs(1) lacks '$needle'"
done
MANWIDTH=200 man -l "$root/usr/share/man/man1/gallery-trash.1.gz" 2>/dev/null |
    grep -q 'gallery-trash-restore(1)' || fail "gallery-trash(1) does not list restore"

# Completions: bash registers them; zsh and fish, where installed, parse them.
bash -c "source '$root/usr/share/bash-completion/completions/gallery-trash' && complete -p gallery-trash" >/dev/null ||
    fail "bash does not load gallery-trash's completions"
bash -c "source '$root/usr/share/bash-completion/completions/galleryfs' && complete -p galleryfs" >/dev/null ||
    fail "bash does not load galleryfs's completions"
# The completion offers the subcommands.
words=$(bash -c "source '$root/usr/share/bash-completion/completions/gallery-trash'
COMP_WORDS=(gallery-trash re); COMP_CWORD=1; COMP_LINE='gallery-trash re'; COMP_POINT=\${#COMP_LINE}
_gallery__trash gallery-trash re gallery-trash; printf '%s\n' \"\${COMPREPLY[@]}\"")
grep -qx restore <<<"$words" || fail "bash completes 'gallery-trash re' to '$words', not restore"
if command -v zsh >/dev/null; then
    zsh -n "$root/usr/share/zsh/vendor-completions/_gallery-trash" || fail "zsh cannot parse _gallery-trash"
fi
if command -v fish >/dev/null; then
    fish -n "$root/usr/share/fish/vendor_completions.d/gallery-trash.fish" || fail "fish cannot parse gallery-trash.fish"
fi

# The units, as systemd reads them: the package's binary stands in for
# /usr/bin/galleryfs (verify checks that ExecStart exists) and its man pages
# for man:galleryfs(1).
units="$root/units"
mkdir "$units"
for unit in "$root/usr/lib/systemd/system/galleryfs@.service" \
    "$root/usr/share/doc/galleryfs/examples/srv-gallery.mount"; do
    grep -q '/usr/bin/galleryfs\|Type=fuse.galleryfs' "$unit" || fail "$unit runs no galleryfs"
    sed "s#/usr/bin/galleryfs#$root/usr/bin/galleryfs#g" "$unit" >"$units/$(basename "$unit")"
done
# verify only warns (exit 0) about a setting it cannot parse: any word is a failure.
verify=$(MANPATH="$root/usr/share/man" systemd-analyze verify "$units/srv-gallery.mount" "$units/galleryfs@.service" 2>&1) &&
    [ -z "$verify" ] || fail "systemd-analyze verify of the shipped units: $verify"

echo "package-check: $deb: $(dpkg-deb -c "$deb" | wc -l) paths, Depends: $depends; man pages, completions and units ok"
