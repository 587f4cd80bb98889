#!/usr/bin/env bash
# Regenerates onnx.pb.swift from onnx.proto (both in this folder) with protoc-gen-swift 1.39.0.
# Usage: Sources/ONNXProto/generate.sh [swift-protobuf checkout]   (default: /tmp/swift-protobuf)
# Needs protoc (Debian: protobuf-compiler) and a Swift toolchain; clones swift-protobuf if the checkout is absent.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=${1:-/tmp/swift-protobuf}
version=1.39.0

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
[ -d "$checkout/.git" ] || git clone -q https://github.com/apple/swift-protobuf "$checkout"
git -C "$checkout" checkout -q "$version"
(cd "$checkout" && swift build -c release --product protoc-gen-swift)
plugin="$checkout/.build/release/protoc-gen-swift"
[ "$("$plugin" --version)" = "protoc-gen-swift $version" ] || { echo "unexpected plugin version" >&2; exit 1; }

out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=Visibility=Public:"$out" --proto_path="$here" onnx.proto
mv "$out/onnx.pb.swift" "$here/onnx.pb.swift"
echo "wrote $here/onnx.pb.swift"
