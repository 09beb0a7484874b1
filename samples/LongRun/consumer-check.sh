#!/usr/bin/env bash
# Packs AlphaRL, then builds and runs samples/LongRun as a consumer app OUTSIDE the repository that references the
# packed AlphaRL.TorchSharp from a local folder feed, with an empty package cache, in two ways:
#   1. the cache outside the project, made read-only (chmod -R a-w; and, when root may, a read-only bind mount)
#      after restore: the Debian 12 fix must patch a copy under obj/, never the package folder;
#   2. the cache inside the project folder (NUGET_PACKAGES=<project>/packages): the fix's task source, which the
#      default **/*.cs glob would find there, must not be compiled into the app.
# Usage: samples/LongRun/consumer-check.sh [work-folder]   (default /tmp/alpharl-consumer-check)
# TORCHSHARP_FEED: a folder feed holding TorchSharp-cpu and its dependencies (default: the machine's NuGet cache,
# whose id/version/*.nupkg layout is a valid feed, so nothing is downloaded); nuget.org is the fallback.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/alpharl-consumer-check}
torch_feed=${TORCHSHARP_FEED:-$HOME/.nuget/packages}
rm -rf "$work" && mkdir -p "$work/feed"
dotnet pack "$repo/AlphaRL.sln" -c Release -o "$work/feed" --nologo -v:q
ts_version=$(sed -n 's/.*PackageVersion Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")
log_version=$(sed -n 's/.*PackageVersion Include="Microsoft.Extensions.Logging.Console" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")

make_app() {  # $1: folder
  mkdir -p "$1"
  cp "$repo/samples/LongRun/Program.cs" "$1/"
  cat > "$1/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="alpharl" value="$work/feed" />
    <add key="torchsharp" value="$torch_feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
  cat > "$1/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="AlphaRL.TorchSharp" Version="0.1.0" />
    <PackageReference Include="TorchSharp-cpu" Version="$ts_version" />
    <PackageReference Include="Microsoft.Extensions.Logging.Console" Version="$log_version" />
  </ItemGroup>
</Project>
XML
}

echo "== 1. empty package cache outside the project, read-only after restore"
app="$work/consumer"; cache="$work/cache"
make_app "$app"
NUGET_PACKAGES="$cache" dotnet restore "$app" --nologo -v:q
so=$(find "$cache/torchsharp" -name libLibTorchSharp.so | head -1)
before=$(sha256sum "$so" | cut -d' ' -f1)
chmod -R a-w "$cache"
mounted=false
if mount --bind "$cache" "$cache" 2>/dev/null && mount -o remount,ro,bind "$cache" 2>/dev/null; then mounted=true; fi
echo "read-only bind mount: $mounted"
NUGET_PACKAGES="$cache" dotnet build "$app" -c Release --no-restore --nologo -v:m > "$work/build1.log" || { cat "$work/build1.log"; exit 1; }
grep -E "AlphaRL:|Warn|warn" "$work/build1.log" || true
NUGET_PACKAGES="$cache" dotnet run --project "$app" -c Release --no-build
after=$(sha256sum "$so" | cut -d' ' -f1)
$mounted && umount "$cache"
chmod -R u+w "$cache"
echo "package file unchanged: $([ "$before" = "$after" ] && echo yes || echo NO) ($before)"
[ "$before" = "$after" ]

echo "== 2. package cache inside the project folder (NUGET_PACKAGES=./packages)"
app2="$work/consumer-local"
make_app "$app2"
export NUGET_PACKAGES="$app2/packages"   # NuGet wants an absolute path; it lies inside the project folder
dotnet build "$app2" -c Release --nologo -v:m > "$work/build2.log" || { cat "$work/build2.log"; exit 1; }
grep -E "AlphaRL:|Warn|warn" "$work/build2.log" || true
ls "$app2"/packages/alpharl.torchsharp/0.1.0/buildTransitive/
dotnet run --project "$app2" -c Release --no-build | tail -1
