#!/bin/sh
# Vendor the web editor's bundle (docs/admin.md): Decap CMS, a pinned release from npm, into
# src/dossier/outputs/cms/, where the build publishes it under admin/.
#
#   scripts/update-cms.sh            the version in src/dossier/outputs/cms/VERSION again
#   scripts/update-cms.sh 3.16.4     another version (then check docs/admin.md and the tests)
#
# Only dist/decap-cms.js and its third-party licences are kept: the numbered chunks of the
# package are CodeMirror modes for the `code` widget and a WebP encoder for image
# transformations, and the generated configuration uses neither. The source map comment is
# taken out so browsers ask for no .map file. The npm package carries no licence file of
# its own; LICENSE (MIT, from the project's repository) stays as it is.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
target="$here/src/dossier/outputs/cms"
version=${1:-$(cat "$target/VERSION")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "decap-cms@$version" >/dev/null && tar xzf decap-cms-*.tgz)
grep -q "\"license\": \"MIT\"" "$work/package/package.json" || {
  echo "decap-cms $version is not MIT-licensed any more: check before vendoring" >&2; exit 1; }
sed '/^\/\/# sourceMappingURL=/d' "$work/package/dist/decap-cms.js" > "$target/decap-cms.js"
cp "$work/package/dist/decap-cms.js.LICENSE.txt" "$target/decap-cms.js.LICENSE.txt"
echo "$version" > "$target/VERSION"
ls -l "$target"
