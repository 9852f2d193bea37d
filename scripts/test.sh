#!/usr/bin/env bash
# The test command the README names and CI runs: native ctest suite, the xunit suite, then the
# package test (the NuGet package and the dotnet tool from a local feed).
# `dotnet build` builds the native library through CMake (src/AwqRuntime/Native.targets).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${AWQ_CONFIG:-Release}"
dotnet build AwqRuntime.sln -c "$config" -nologo -clp:ErrorsOnly
ctest --test-dir artifacts/native --output-on-failure --timeout 300
# xunit: a progress line every 100 tests (and every failure as it happens) instead of 11 silent minutes.
start=$(date +%s)
dotnet test AwqRuntime.sln -c "$config" --no-build -nologo --logger "console;verbosity=normal" "$@" | awk -v start="$start" '
  function progress() { printf "xunit: %d passed, %d failed, %d skipped (%d s)\n", p, f, s, systime() - start; fflush() }
  /^[[:space:]]+Passed [^!]/ { if (++p % 100 == 0) progress(); next }
  /^[[:space:]]+Skipped /    { s++; print; fflush(); next }
  /^[[:space:]]+Failed [^!]/ { f++; print; fflush(); next }
  { print; fflush() }
  END { progress() }'

# The NuGet package and the dotnet tool, used from a local feed the way a user would (~30 s).
bash scripts/package-test.sh
