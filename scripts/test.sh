#!/usr/bin/env bash
# The test command the README names and CI runs: native ctest suite, then the xunit suite.
# `dotnet build` builds the native library through CMake (src/AwqRuntime/Native.targets).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${AWQ_CONFIG:-Release}"
dotnet build AwqRuntime.sln -c "$config" -nologo -clp:ErrorsOnly
ctest --test-dir artifacts/native --output-on-failure --timeout 300
dotnet test AwqRuntime.sln -c "$config" --no-build -nologo "$@"
