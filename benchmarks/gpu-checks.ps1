# The GPU checks in one short job on Windows (PowerShell 7+), the twin of gpu-checks.sh: the device tests on the CUDA
# build (a CUDA case skipped for lack of CUDA fails the job), the quick speedup benchmark on the device, and the
# BenchmarkDotNet snapshot suite on the device, and the session-memory harness on the device (the velocity's sums in
# host memory: what the device-to-host copy costs); everything written to one folder.
#
#   pwsh benchmarks/gpu-checks.ps1 [-Bundle TorchSharp-cuda-windows] [-Device cuda] [-DType fp32] [-Out DIR]
#                                  [-Steps tests,speedup,bdn,memory] [-DryRun]
param(
    [string]$Bundle = "TorchSharp-cuda-windows",
    [string]$Device = "cuda",
    [string]$DType = "fp32",
    [string]$Out = "",
    [string[]]$Steps = @("tests", "speedup", "bdn", "memory"),
    [switch]$DryRun
)
$ErrorActionPreference = "Stop"
$root = Split-Path -Parent $PSScriptRoot
$Steps = $Steps | ForEach-Object { $_ -split "," } | Where-Object { $_ }
foreach ($step in $Steps) {
    if ($step -notin @("tests", "speedup", "bdn", "memory")) { [Console]::Error.WriteLine("gpu-checks.ps1: -Steps: unknown step '$step' (use tests, speedup, bdn, memory)"); exit 2 }
}
if (-not $Out) { $Out = Join-Path $root ("benchmarks/results/gpu-" + (Get-Date).ToUniversalTime().ToString("yyyyMMdd-HHmmss")) }

# MSBuild reads environment variables as properties: every build below, BenchmarkDotNet's own included, gets the bundle.
$env:TorchBundle = $Bundle
$env:ALPHARL_BENCH_DEVICE = $Device
$benchmarks = Join-Path $root "AlphaRL.Benchmarks/bin/Release/net10.0/AlphaRL.Benchmarks.dll"

function Run([string]$log, [string[]]$command) {
    Write-Host "+ $($command -join ' ')"
    if ($DryRun) { return }
    if ($log) { & $command[0] $command[1..($command.Length - 1)] | Tee-Object -FilePath (Join-Path $Out $log) }
    else { & $command[0] $command[1..($command.Length - 1)] }
    if ($LASTEXITCODE -ne 0) { [Console]::Error.WriteLine("gpu-checks.ps1: '$($command -join ' ')' failed with exit code $LASTEXITCODE"); exit 1 }
}

Write-Host "GPU checks: bundle $Bundle, device $Device, dtype $DType, steps $($Steps -join ','), results to $Out"
Set-Location $root
if (-not $DryRun) { New-Item -ItemType Directory -Force -Path $Out | Out-Null }
Run "" @("dotnet", "build", "AlphaRL.sln", "-c", "Release", "-p:TorchBundle=$Bundle")

if ("tests" -in $Steps) {
    Run "device-tests.log" @("dotnet", "test", "AlphaRL.Tests", "-c", "Release", "--no-build", "-p:TorchBundle=$Bundle",
        "--filter", "TestCategory=Device|FullyQualifiedName~ComputeDeviceTests",
        "--logger", "console;verbosity=normal", "--logger", "trx;LogFileName=device-tests.trx", "--results-directory", $Out)
    if (-not $DryRun -and $Device -ne "cpu" -and (Select-String -Path (Join-Path $Out "device-tests.log") -Pattern "^  Skipped " -Quiet)) {
        [Console]::Error.WriteLine("gpu-checks.ps1: device tests were skipped (is CUDA available to TorchSharp? see $Out/device-tests.log)"); exit 1
    }
}
if ("speedup" -in $Steps) {
    Run "speedup-quick.log" @("dotnet", $benchmarks, "speedup", "--quick", "--device", $Device, "--dtype", $DType, "--out", (Join-Path $Out "speedup-quick"))
}
if ("bdn" -in $Steps) {
    Run "bdn.log" @("dotnet", $benchmarks, "--filter", "*SnapshotOfRealisticModel*", "*TorchTopTripletVsReadOnce*", "--artifacts", (Join-Path $Out "bdn"))
}
if ("memory" -in $Steps) {
    Run "session-memory.log" @("dotnet", $benchmarks, "session-memory", "1024", (Join-Path $Out "session-memory"))
}
Write-Host "GPU checks finished; results in $Out"
