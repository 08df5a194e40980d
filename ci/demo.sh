#!/usr/bin/env bash
# Install the build tools, build tofu (poll backend) and run the demo: one
# engine, a server and a client group exchanging hello, requests, a signal and
# bye over TCP and then over a Unix domain socket.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-debian.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOFU_BUILD_TESTS=OFF
cmake --build build/demo
./build/demo/examples/tofu-demo
