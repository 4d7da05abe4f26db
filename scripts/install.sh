#!/usr/bin/env bash
# Installs cargo-gate for the GitHub Action: the release binary of VERSION for this machine,
# verified against the SHA-256 checksum published next to it; built from SOURCE only when no
# release exists for that version (or none is asked for). A binary that fails verification is
# refused, never installed, and nothing is built in its place: a wrong checksum means the
# download cannot be trusted, not that it is missing.
#
# Environment:
#   VERSION   version to install (`1.2.3` or `v1.2.3`); empty: build SOURCE
#   ROOT      install root; the binary goes to ROOT/bin/cargo-gate
#   SOURCE    cargo-gate's source (the action's own checkout), built when there is no release
#   RELEASES  where releases are downloaded from (default: this project's GitHub releases)
#   TARGET    target triple (default: this machine's)
#
# Release assets: RELEASES/vX.Y.Z/cargo-gate-vX.Y.Z-TARGET.tar.gz, each with a
# `.sha256` file holding the archive's checksum (as `sha256sum` prints it).
set -euo pipefail

: "${ROOT:?ROOT must be set}"
RELEASES="${RELEASES:-https://github.com/cargo-gate/cargo-gate/releases/download}"

say() { echo "cargo-gate install: $*" >&2; }

detect_target() {
    local os arch
    os="$(uname -s)"
    arch="$(uname -m)"
    case "$arch" in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) return 1 ;;
    esac
    case "$os" in
        Linux) echo "$arch-unknown-linux-musl" ;;
        Darwin) echo "$arch-apple-darwin" ;;
        *) return 1 ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# Downloads $1 to $2: prints the HTTP status (000 when the server could not be reached).
fetch() {
    curl --silent --show-error --location --retry 3 --retry-connrefused \
        --output "$2" --write-out '%{http_code}' "$1" || true
}

build_from_source() {
    : "${SOURCE:?no release to install and no SOURCE to build}"
    say "building from source ($1); this takes a few minutes"
    cargo install --locked --quiet --path "$SOURCE" --root "$ROOT" --force
    say "built from source"
}

bin="$ROOT/bin/cargo-gate"
version="${VERSION:-}"
version="${version#v}"

if [ -z "$version" ]; then
    build_from_source "no version asked for"
    exit 0
fi

# A cached install of the same version is reused (the cache key is the version).
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null || true)" = "cargo-gate $version" ]; then
    say "cargo-gate $version already installed"
    exit 0
fi

target="${TARGET:-$(detect_target || true)}"
if [ -z "$target" ]; then
    build_from_source "no prebuilt binary for $(uname -s) $(uname -m)"
    exit 0
fi

tag="v$version"
ext=tar.gz
asset="cargo-gate-$tag-$target.$ext"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

status="$(fetch "$RELEASES/$tag/$asset" "$work/$asset")"
case "$status" in
    200) ;;
    404)
        build_from_source "no release asset $asset"
        exit 0
        ;;
    *)
        say "cannot download $RELEASES/$tag/$asset (HTTP $status); not building instead, as the release may exist: retry the job"
        exit 1
        ;;
esac

status="$(fetch "$RELEASES/$tag/$asset.sha256" "$work/$asset.sha256")"
if [ "$status" != 200 ]; then
    say "refused: $asset has no checksum ($asset.sha256: HTTP $status), so it cannot be verified"
    exit 1
fi
expected="$(cut -d' ' -f1 <"$work/$asset.sha256" | tr -d '[:space:]' | tr '[:upper:]' '[:lower:]')"
actual="$(sha256_of "$work/$asset")"
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    say "refused: checksum mismatch for $asset (expected ${expected:-nothing}, got $actual)"
    exit 1
fi

mkdir -p "$work/x"
tar -xzf "$work/$asset" -C "$work/x"
found="$(find "$work/x" -type f -name cargo-gate | head -n 1)"
if [ -z "$found" ]; then
    say "refused: $asset holds no cargo-gate binary"
    exit 1
fi
mkdir -p "$ROOT/bin"
install -m 0755 "$found" "$ROOT/bin/$(basename "$found")"
say "installed cargo-gate $version ($target) from the release, sha256 verified"
