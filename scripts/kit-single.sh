#!/bin/sh
# te-scan as one file: this sh header and, after it, the offline kit (a tar.gz).
# Run it as te-scan. The first run unpacks the kit once into a cache keyed by
# the kit's SHA-256 (beside this file if its folder is writable, else
# $XDG_CACHE_HOME/te-scan or ~/.cache/te-scan), checks the unpacked bytes
# against that SHA-256, then runs the kit's launcher (Deno with exactly
# --allow-net --allow-read --allow-write). Needs only sh, tar, gzip and
# coreutils. Two copies started at once each unpack into their own temporary
# folder and rename it into place: one wins, the other uses it.
set -e
sum=@PAYLOAD_SHA256@
offset=@PAYLOAD_OFFSET@
self=$0
case $self in */*) ;; *) self=$(command -v -- "$self") ;; esac
here=${self%/*}
[ "$here" != "$self" ] || here=.
key=$(printf '%.16s' "$sum")
if [ -w "$here" ]; then
  cache=$here/.te-scan-$key
else
  cache=${XDG_CACHE_HOME:-${HOME:?te-scan: no writable cache: set XDG_CACHE_HOME or HOME}/.cache}/te-scan/$key
fi
if [ ! -x "$cache/te-scan-offline/te-scan" ]; then
  mkdir -p -- "${cache%/*}"
  tmp=$(mktemp -d "$cache.unpack.XXXXXX")
  trap 'rm -rf -- "$tmp"' EXIT
  tail -c +"$offset" -- "$self" > "$tmp/kit.tar.gz"
  if ! printf '%s  %s\n' "$sum" "$tmp/kit.tar.gz" | sha256sum -c --status; then
    echo "te-scan: Cannot unpack $self: its payload is damaged (SHA-256 differs); copy it again" >&2
    exit 3
  fi
  tar -xzf "$tmp/kit.tar.gz" -C "$tmp"
  rm -f -- "$tmp/kit.tar.gz"
  chmod 755 "$tmp"
  # An atomic rename; it fails when another copy's rename won, whose kit is then used.
  mv -T -- "$tmp" "$cache" 2>/dev/null || [ -x "$cache/te-scan-offline/te-scan" ]
  trap - EXIT
  rm -rf -- "$tmp"
fi
exec "$cache/te-scan-offline/te-scan" "$@"
exit 70
