#!/usr/bin/env bash
# Copy the browser libraries the tablet app needs from npm into static/vendor/<package>/,
# each with its LICENSE, so pages never load a script from a CDN and `make run` needs no npm.
#
# Run it after changing a version in vendor/package.json (and commit what it changes):
#     vendor/vendor.sh
# It is idempotent: it installs exactly what package-lock.json pins (npm ci), clears each
# package's folder and copies the same files again, so a second run changes nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
static="$here/../static/vendor"
cd "$here"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
else
  npm install --no-audit --no-fund --ignore-scripts --loglevel=error
fi
modules="$here/node_modules"

# copy <package> <target folder> <file in the package>...
copy() {
  local pkg="$1" target="$static/$2"
  shift 2
  rm -rf "$target"
  mkdir -p "$target"
  cp "$modules/$pkg/LICENSE" "$target/LICENSE"
  for file in "$@"; do
    cp "$modules/$pkg/$file" "$target/"
    # Copy the source map a file names too: the manifest storage of collectstatic follows it.
    if [ -f "$modules/$pkg/$file.map" ]; then cp "$modules/$pkg/$file.map" "$target/"; fi
  done
  node -p "const p=require('$modules/$pkg/package.json'); p.name+' '+p.version+' ('+p.license+')'" \
    > "$target/VERSION"
}

# Workbox: the loader and the prod builds of the modules the service worker uses; the loader
# is told to fetch them from /static/vendor/workbox/ (setConfig modulePathPrefix).
rm -rf "$static/workbox"
mkdir -p "$static/workbox"
for pkg in workbox-sw workbox-core workbox-routing workbox-strategies workbox-precaching \
  workbox-expiration workbox-cacheable-response; do
  tmp="workbox/.$pkg"
  if [ "$pkg" = workbox-sw ]; then copy "$pkg" "$tmp" build/workbox-sw.js
  else copy "$pkg" "$tmp" "build/$pkg.prod.js"; fi
  for f in "$static/$tmp"/*; do
    name="$(basename "$f")"
    case "$name" in
      LICENSE) mv "$f" "$static/workbox/LICENSE" ;;   # the same MIT licence for every module
      VERSION) cat "$f" >> "$static/workbox/VERSION" && rm "$f" ;;
      *) mv "$f" "$static/workbox/$name" ;;
    esac
  done
  rmdir "$static/$tmp"
done
copy workbox-window workbox-window build/workbox-window.prod.umd.js
copy signature_pad signature_pad dist/signature_pad.umd.min.js
copy idb idb build/umd.js
echo "vendored into $static: $(cd "$static" && ls -d workbox workbox-window signature_pad idb | tr '\n' ' ')"
