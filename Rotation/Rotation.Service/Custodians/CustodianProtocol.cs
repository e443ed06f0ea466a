using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotation.Service.Custodians;

/// <summary>Where an image is at a custodian, by the custodian's own clock.</summary>
public enum CustodyStatus
{
    /// <summary>Deposited, and the courier has not delivered it yet (the custodian's today is before its arrival date).</summary>
    InTransit,

    /// <summary>Delivered and kept: readable, and erasable only after its retain-until date.</summary>
    Held,
}

/// <summary>
/// The facts an image is deposited with, and that the custodian keeps beside it: which medium and write, its SHA-256
/// and size (checked while receiving), until when it must be kept, when the courier delivers it, and which checkpoint
/// of which vault it was written under (taken from the image's own header).
/// </summary>
public sealed record ImageFacts(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("writeId")] string WriteId,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("retainUntil")] DateOnly RetainUntil,
    [property: JsonPropertyName("arrivesOn")] DateOnly ArrivesOn,
    [property: JsonPropertyName("depositedAt")] DateTimeOffset DepositedAt,
    [property: JsonPropertyName("depositor")] string Depositor,
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("checkpointCount")] long? CheckpointCount)
{
    public CustodyStatus StatusOn(DateOnly today) => today < ArrivesOn ? CustodyStatus.InTransit : CustodyStatus.Held;

    /// <summary>Retention holds through <see cref="RetainUntil"/>: the image may leave the custodian from the day after.</summary>
    public bool RetainedOn(DateOnly today) => today <= RetainUntil;
}

/// <summary>An image as the custodian lists it: its facts and its status today by the custodian's clock.</summary>
public sealed record CustodyEntry(
    [property: JsonPropertyName("facts")] ImageFacts Facts,
    [property: JsonPropertyName("status")] CustodyStatus Status,
    [property: JsonPropertyName("today")] DateOnly Today);

/// <summary>How far a custodian's copy of the log goes: records and the hash of the last (hex).</summary>
public sealed record LogCopyHead(
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("head")] string Head);

/// <summary>A custodian's refusal or failure, as its body carries it: a code and one sentence.</summary>
public sealed record CustodianError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("reason")] string Reason);

/// <summary>The HTTP interface of a site custodian (docs/sites.md): paths, headers and the JSON they carry.</summary>
public static class CustodianProtocol
{
    public const string WriteIdHeader = "Vault-Write-Id";
    public const string Sha256Header = "Vault-Sha256";
    public const string RetainUntilHeader = "Vault-Retain-Until";
    public const string ArrivesOnHeader = "Vault-Arrives-On";
    public const string SiteHeader = "Vault-Site";
    public const string JournalHeader = "Vault-Journal-Head";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string Image(string label) => $"v1/images/{Uri.EscapeDataString(label)}";

    public static string Facts(string label) => $"v1/images/{Uri.EscapeDataString(label)}/facts";

    public static string Retain(string label) => $"v1/images/{Uri.EscapeDataString(label)}/retain";

    public const string Images = "v1/images";
    public const string Checkpoints = "v1/checkpoints";
    public const string LatestCheckpoint = "v1/checkpoints/latest";
    public const string Journal = "v1/journal";
    public const string Log = "v1/log";
    public const string LogHead = "v1/log/head";

    /// <summary>Codes a custodian answers with (docs/sites.md).</summary>
    public static class Codes
    {
        public const string Unauthorized = "unauthorized";
        public const string Malformed = "malformed";
        public const string Mismatch = "mismatch";
        public const string Exists = "exists";
        public const string NotFound = "not-found";
        public const string Retained = "retained";
        public const string InTransit = "in-transit";
        public const string Foreign = "foreign-vault";
        public const string Fork = "fork";
        public const string LogGap = "log-gap";
    }

    /// <summary>Label and write id: letters, digits and '-', as the vault makes them; anything else is refused before it is a path.</summary>
    public static bool IsName(string? s, int max) =>
        !string.IsNullOrEmpty(s) && s.Length <= max && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static bool IsSha256(string? s) => s is { Length: 64 } && s.All(char.IsAsciiHexDigitLower);
}
