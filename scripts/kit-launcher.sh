#!/bin/sh
# te-scan from the offline kit: runs te-scan.js with the Deno executable beside
# it and exactly the permissions te-scan needs (network, read, write). The host
# needs no Deno, Node, npm or network, nor a home folder: Deno keeps its cache
# in .deno/ here (or in $DENO_DIR), and runs without one if this folder is
# read-only. Link this file onto PATH to call it as `te-scan` from anywhere.
set -e
self=$0
# Follow links to this file (e.g. /usr/local/bin/te-scan) to the kit's folder.
while [ -L "$self" ]; do
  target=$(readlink "$self")
  case $target in
    /*) self=$target ;;
    *) case $self in */*) self=${self%/*}/$target ;; *) self=$target ;; esac ;;
  esac
done
case $self in */*) kit=${self%/*} ;; *) kit=. ;; esac
kit=$(CDPATH='' cd -P -- "$kit" && pwd)
DENO_DIR=${DENO_DIR:-$kit/.deno}
export DENO_DIR DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
exec "$kit/deno" run --no-config --v8-flags=--max-semi-space-size=4,--optimize-for-size \
  --allow-net --allow-read --allow-write "$kit/te-scan.js" "$@"
