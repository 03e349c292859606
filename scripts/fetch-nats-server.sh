#!/usr/bin/env bash
# Fetch a current nats-server into .tools/nats-server-<version>/ for cluster, fault and
# durability tests (see docs/adr/0003-test-services.md).
#
# Debian bookworm ships nats-server 2.9.10; the features our tests exercise (sync_interval,
# JetStream clustering fixes of 2.10+) need a current one. The only registries reachable from
# developers' machines and CI are npm and Debian, so we take the package from Debian's
# `unstable` (or `testing`, once it migrated) suite — WITHOUT touching the machine's apt
# configuration: apt-get runs against a temporary sources list and temporary list/cache dirs.
# apt verifies the Release signature; we also pin the .deb's SHA-256 below.
#
# Usage: bash scripts/fetch-nats-server.sh     (or: pnpm nats:fetch)
# Prints the absolute path of the nats-server binary as the last line on stdout.
# Environment:
#   HIX_DEBIAN_MIRROR  Debian mirror URI (default: the one in /etc/apt sources, else deb.debian.org)
#   HIX_TOOLS_DIR      where tools go (default: <repo>/.tools)
#   HIX_NATS_REQUIRE_PIN=1  fail instead of taking a newer signed version when the pin is gone
#
# To move to a newer version: set NATS_DEB_VERSION and the SHA-256 of each architecture's .deb
# (`apt-cache show nats-server` against the temporary lists prints them).
set -euo pipefail

NATS_DEB_VERSION="2.15.1-1"
declare -A NATS_DEB_SHA256=(
  [amd64]="31ef4ceaa84e8248d449e508472e3770c17c3695cb5cb0ee96e03912724ea884"
  [arm64]="68923b614b6b5594bbd63ffdce7258c2155ec448fb4cb7efd099bf9273eca128"
)

log() { printf 'fetch-nats-server: %s\n' "$*" >&2; }
die() {
  printf 'fetch-nats-server: error: %s\n' "$*" >&2
  exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${HIX_TOOLS_DIR:-$repo_root/.tools}"
upstream_version="${NATS_DEB_VERSION%%-*}"
install_dir="$tools_dir/nats-server-$upstream_version"
binary="$install_dir/usr/sbin/nats-server"

# Idempotent: a complete install has its binary and the marker written last.
if [[ -x "$binary" && -f "$install_dir/.complete" ]]; then
  printf '%s\n' "$binary"
  exit 0
fi

for tool in apt-get dpkg dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found: this script needs a Debian-based machine (apt + dpkg)"
done

arch="$(dpkg --print-architecture)"
expected_sha="${NATS_DEB_SHA256[$arch]:-}"
[[ -n "$expected_sha" ]] || die "no pinned checksum for architecture '$arch' (pinned: ${!NATS_DEB_SHA256[*]})"

mkdir -p "$tools_dir"

# Serialize concurrent runs (parallel test workers may all find the binary missing).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools_dir/.nats-server-fetch.lock"
  flock 9
  if [[ -x "$binary" && -f "$install_dir/.complete" ]]; then
    printf '%s\n' "$binary"
    exit 0
  fi
fi

# The Debian mirror this machine already uses (deb822 .sources or one-line sources.list),
# skipping the security archive, which carries no unstable suite.
find_mirror() {
  local files=() f uri
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  uri="$(
    grep -hE '^[[:space:]]*(URIs:|deb[[:space:]])' "${files[@]}" 2>/dev/null |
      grep -oE '(https?|file)://[^[:space:]]+' |
      grep -E '/debian/?$' | grep -v 'debian-security' | head -n 1 || true
  )"
  printf '%s' "${uri%/}"
}

mirror="${HIX_DEBIAN_MIRROR:-$(find_mirror)}"
mirror="${mirror:-http://deb.debian.org/debian}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f "$keyring" ]] || die "$keyring missing: install the debian-archive-keyring package"

work="$(mktemp -d "${TMPDIR:-/tmp}/hix-nats-fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
cat >"$work/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: unstable testing
Components: main
Architectures: $arch
Signed-By: $keyring
EOF

apt_opts=(
  -o "Dir::Etc::SourceList=$work/debian.sources"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
)
# apt drops privileges to _apt for downloads, which cannot enter our private temp dir.
[[ "$(id -u)" == 0 ]] && apt_opts+=(-o "APT::Sandbox::User=root")

log "reading package lists of unstable/testing from $mirror"
if ! apt-get "${apt_opts[@]}" -q update >"$work/update.log" 2>&1; then
  cat "$work/update.log" >&2
  die "apt-get update against $mirror failed (is the mirror reachable? override with HIX_DEBIAN_MIRROR)"
fi

log "downloading nats-server $NATS_DEB_VERSION ($arch)"
pinned=1
if ! (cd "$work" && apt-get "${apt_opts[@]}" -q download "nats-server=$NATS_DEB_VERSION") >"$work/download.log" 2>&1; then
  available="$(apt-cache "${apt_opts[@]}" madison nats-server 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -uV | tr '\n' ' ')"
  newest="$(printf '%s\n' $available | sort -V | tail -n 1)"
  # Debian's unstable keeps only its newest upload, so a pin goes stale within weeks. Rather
  # than turn every CI run red until someone edits this file, take the newest version that is
  # at least the pinned one: apt has verified it against the suite's signed Release file, which
  # is the same chain of trust our pin was taken from. Say so loudly; the pin should be updated.
  if [[ "${HIX_NATS_REQUIRE_PIN:-0}" != 1 && -n "$newest" ]] &&
    dpkg --compare-versions "$newest" ge "$NATS_DEB_VERSION"; then
    log "WARNING: pinned $NATS_DEB_VERSION is gone from unstable/testing; taking $newest, verified by apt's signed index only — update NATS_DEB_VERSION/NATS_DEB_SHA256 in $0"
    (cd "$work" && apt-get "${apt_opts[@]}" -q download "nats-server=$newest") >"$work/download.log" 2>&1 ||
      { cat "$work/download.log" >&2; die "download of nats-server $newest failed"; }
    pinned=0
    NATS_DEB_VERSION="$newest"
    upstream_version="${NATS_DEB_VERSION%%-*}"
    install_dir="$tools_dir/nats-server-$upstream_version"
    binary="$install_dir/usr/sbin/nats-server"
  else
    cat "$work/download.log" >&2
    die "nats-server $NATS_DEB_VERSION is not in Debian unstable/testing any more (available: ${available:-none}); update NATS_DEB_VERSION and NATS_DEB_SHA256 in $0"
  fi
fi

deb="$work/nats-server_${NATS_DEB_VERSION}_${arch}.deb"
[[ -f "$deb" ]] || deb="$(ls "$work"/nats-server_*.deb 2>/dev/null | head -n 1)"
[[ -f "$deb" ]] || die "apt-get download reported success but no .deb is in $work"

actual_sha="$(sha256sum "$deb" | cut -d' ' -f1)"
if [[ "$pinned" == 1 && "$actual_sha" != "$expected_sha" ]]; then
  die "checksum mismatch for $(basename "$deb"): expected $expected_sha, got $actual_sha — refusing to install"
fi
if [[ "$pinned" == 1 ]]; then log "sha256 ok ($actual_sha)"; else log "sha256 $actual_sha (not pinned)"; fi

# Extract beside the final place (same file system), then rename in one step, so a reader
# never sees a half-written install.
staging="$install_dir.partial"
rm -rf "$staging"
dpkg -x "$deb" "$staging"
[[ -x "$staging/usr/sbin/nats-server" ]] || die "the package has no usr/sbin/nats-server"
printf '%s\n' "$NATS_DEB_VERSION" >"$staging/.deb-version"
printf '%s\n' "$actual_sha" >"$staging/.deb-sha256"
touch "$staging/.complete"
rm -rf "$install_dir"
mv "$staging" "$install_dir"
log "installed $("$binary" --version 2>/dev/null || echo nats-server) into $install_dir"
printf '%s\n' "$binary"
