#!/usr/bin/env bash
# Packs the library (AwqRuntime, native kernels under runtimes/<rid>/native/) and the CLI (the
# `awq` dotnet tool) into a local folder feed, then uses them the way a user would, outside the
# repository: a fresh console project adds the package from the feed, loads stories260K and
# generates (checked token by token against llama2.c); the tool is installed from the feed and runs.
# Needs a Release build (scripts/test.sh runs this after it). About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
config="${AWQ_CONFIG:-Release}"
models="$repo/../shared/models/stories260K"
work=$(mktemp -d /tmp/awq-package-test.XXXXXX)
# A version of its own, so that no earlier package of the same version in the NuGet cache is used.
version="0.1.0-local.$(date +%s).$$"
cleanup() { rm -rf "$work" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/awqruntime/$version"; }
trap cleanup EXIT

feed="$work/feed"
dotnet pack src/AwqRuntime/AwqRuntime.csproj -c "$config" --no-build -nologo -o "$feed" -p:Version="$version" -clp:ErrorsOnly
dotnet pack src/AwqRuntime.Cli/AwqRuntime.Cli.csproj -c "$config" --no-build -nologo -o "$feed" -p:Version="$version" -clp:ErrorsOnly

pkg="$feed/AwqRuntime.$version.nupkg"
rid=$(dotnet msbuild src/AwqRuntime/AwqRuntime.csproj -getProperty:AwqNativeRid)
# The listing is read whole before it is searched: under pipefail, `unzip -l | grep -q` fails at
# random when grep exits at the first match and unzip dies of SIGPIPE while still writing.
listing=$(unzip -l "$pkg")
if ! grep -q "runtimes/$rid/native/libawq_kernels.so" <<<"$listing"; then
  echo "package-test: $pkg lacks runtimes/$rid/native/libawq_kernels.so" >&2; exit 1
fi
# the CUDA plugin travels with it wherever the build made one
if [ -f artifacts/native/libawq_kernels_cuda.so ] && ! grep -q "runtimes/$rid/native/libawq_kernels_cuda.so" <<<"$listing"; then
  echo "package-test: $pkg lacks runtimes/$rid/native/libawq_kernels_cuda.so (the build made one)" >&2; exit 1
fi

# The consumer: outside the repo (no Directory.Build.props, no project references), the feed as a source.
app="$work/consumer"
mkdir -p "$app"
cp scripts/package-test/Program.cs "$app/"
cat > "$app/consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="AwqRuntime" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local-feed" value="$feed" />
  </packageSources>
</configuration>
XML
(cd "$app" && cp "$repo/global.json" . 2>/dev/null || true
 dotnet build -c Release -nologo -clp:ErrorsOnly && dotnet bin/Release/net10.0/consumer.dll "$models")

# The tool: installed from the feed into a folder of its own, then run like any command.
tools="$work/tools"
dotnet tool install awq --tool-path "$tools" --add-source "$feed" --version "$version" >/dev/null
info=$("$tools/awq" info)
head -3 <<<"$info"
out=$("$tools/awq" generate "$models/stories260K.bin" --tokenizer "$models/tok512.bin" --temp 0 -n 32 --quiet 2>&1) || { echo "$out" >&2; exit 1; }
head -3 <<<"$out"
[ -n "$out" ] || { echo "package-test: the installed awq generated nothing" >&2; exit 1; }
# llama.cpp's quantizer (LLamaSharp's native backend, carried in the tool package) makes a Q4_0 GGUF.
"$tools/awq" synth --preset tiny --out "$work/tiny" >/dev/null
"$tools/awq" export-gguf "$work/tiny" --type q4_0 --out "$work/tiny-q4_0.gguf" >/dev/null
[ -s "$work/tiny-q4_0.gguf" ] || { echo "package-test: the installed awq wrote no Q4_0 GGUF" >&2; exit 1; }
echo "package-test: passed (AwqRuntime $version from a local feed; awq tool installed and run)"
