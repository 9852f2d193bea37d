#!/usr/bin/env bash
# The test command the README names and CI runs: native ctest suite, the xunit suite, then the
# package test (the NuGet package and the dotnet tool from a local feed).
# `dotnet build` builds the native library through CMake (src/AwqRuntime/Native.targets).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${AWQ_CONFIG:-Release}"
dotnet build AwqRuntime.sln -c "$config" -nologo -clp:ErrorsOnly
ctest --test-dir artifacts/native --output-on-failure --timeout 300
dotnet test AwqRuntime.sln -c "$config" --no-build -nologo "$@"
# The NuGet package and the dotnet tool, used from a local feed the way a user would (~30 s).
bash scripts/package-test.sh
