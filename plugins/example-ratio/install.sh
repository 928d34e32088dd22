#!/usr/bin/env bash
# Builds the example plugin, copies the stripped library into the example
# pack and pins its sha256 in the pack's manifest. Run it after changing the
# plugin; review the new digest like any other change of the pack.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p tdm-example-plugin
pack=rules/examples/plugin-ratio
strip --strip-unneeded -o "$pack/plugins/libimatinib_ratio.so" target/release/libtdm_example_plugin.so
digest=$(sha256sum "$pack/plugins/libimatinib_ratio.so" | cut -d' ' -f1)
sed -i "s/^    sha256: \"[0-9a-f]*\"/    sha256: \"$digest\"/" "$pack/pack.yaml"
echo "pinned $pack/plugins/libimatinib_ratio.so as $digest"
