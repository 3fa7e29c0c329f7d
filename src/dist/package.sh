#!/bin/sh
# Builds the self-contained distribution (run by the `dist` Maven profile in the package phase):
#   package.sh VERSION JLINK MODULES TARGET
# Stages TARGET/dist/latentstream-VERSION/ with a jlinked runtime (rebuilt only when the module list or
# the JDK changes: jlink takes a minute), the jar and its lib/, bin/, config/ and the systemd unit, then
# writes TARGET/latentstream-VERSION-linux-x86_64.tar.gz with tar, which keeps the runtime's modes and
# the symbolic links in its legal/ directory.
set -eu
version="$1"
jlink="$2"
modules="$3"
target="$4"
here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "$here/../.." && pwd)"
name="latentstream-$version"
stage="$target/dist/$name"
runtime="$target/dist/runtime"
tarball="$target/$name-linux-x86_64.tar.gz"

stamp="$modules $("$jlink" --version)"
if [ ! -x "$runtime/bin/java" ] || [ "$(cat "$runtime.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "dist: jlink $modules" >&2
  rm -rf "$runtime" "$runtime.stamp"
  "$jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-6 \
    --output "$runtime"
  echo "$stamp" > "$runtime.stamp"
fi

chmod -R u+w "$stage" 2>/dev/null || true
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib"
cp -a "$runtime" "$stage/runtime"
cp "$target/latentstream.jar" "$stage/"
cp "$target/lib/"*.jar "$stage/lib/"
cp -r "$project/config" "$stage/config"
cp "$here/bin/latentstream" "$stage/bin/"
chmod 755 "$stage/bin/latentstream"
cp "$here/latentstream.service" "$stage/"
cp "$project/README.md" "$stage/"
cp -r "$project/docs" "$stage/docs"

# Fixed owner and sorted entries: the same inputs give the same listing.
tar --owner=0 --group=0 --numeric-owner --sort=name -C "$target/dist" -cf - "$name" | gzip -6 > "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "dist: $tarball ($(du -m "$tarball" | cut -f1) MB)" >&2
