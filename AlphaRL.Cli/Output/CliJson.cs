using System.Text.Json.Serialization;

namespace AlphaRl.Cli;

/// <summary>The JSON files the tool reads and writes (store manifest; the part manifest and the report have their own
/// contexts), serialized by source-generated code: reflection-based serialization costs a short-lived process a tenth of
/// a second of start-up.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoreManifest))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>The report's JSON: as <see cref="CliJson"/>, and NaN or infinite figures written as named literals.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SeriesReport))]
internal sealed partial class ReportJson : JsonSerializerContext;
