using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Vault.Core.Governance;

namespace Vault.Core.Checkpoints;

/// <summary>
/// A signed checkpoint, on stream "checkpoints": the log up to <see cref="Position"/> has head hash <see cref="Head"/>,
/// <see cref="Count"/> records and the RFC 9162 Merkle root <see cref="MerkleRoot"/> over their hashes. Signed with
/// the vault's checkpoint key (its public half is in the genesis). <see cref="Peaks"/> is the compact range at
/// <see cref="Position"/>, so the next checkpoint resumes the tree instead of rebuilding it; it is not signed and
/// proves nothing (verification recomputes the tree). Copies leave the primary: every tape image and every site root.
/// </summary>
public sealed record CheckpointRecorded(
    [property: JsonPropertyName("position")] long Position,
    [property: JsonPropertyName("head")] string Head,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("merkleRoot")] string MerkleRoot,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("peaks")] IReadOnlyList<string>? Peaks = null)
{
    public const string EventType = "Checkpoint.v1";
    public const string Stream = "checkpoints";
    public const string Domain = "vault-checkpoint/v1";

    /// <summary>
    /// What the checkpoint key signs, UTF-8, each line ending in "\n": "vault-checkpoint/v1", the vault id, the position,
    /// the head hash (hex), the record count, the Merkle root (hex), the time in Unix microseconds.
    /// </summary>
    public static byte[] SigningText(string vaultId, long position, string head, long count, string root, DateTimeOffset at) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Domain}\n{vaultId}\n{position}\n{head}\n{count}\n{root}\n{Log.ChainHash.ToUnixMicroseconds(at)}\n"));

    public byte[] SigningText(string vaultId) => SigningText(vaultId, Position, Head, Count, MerkleRoot, At);

    public bool SignatureHolds(string vaultId, string checkpointKeyHex)
    {
        try
        {
            return Ed25519.Verify(Convert.FromHexString(checkpointKeyHex), SigningText(vaultId), Convert.FromHexString(Signature));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The same checkpoint without the compact range, as copies carry it.</summary>
    public CheckpointRecorded Signed() => this with { Peaks = null };
}

/// <summary>
/// A copy of the latest checkpoint that left the primary (a site root's checkpoint.json, a tape image's header, a
/// file an operator keeps): the checkpoint, and the genesis record it descends from (its hash and payload), so a
/// rewritten genesis is caught too.
/// </summary>
public sealed record CheckpointCopy(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("checkpoint")] CheckpointRecorded Checkpoint,
    [property: JsonPropertyName("genesisHash")] string GenesisHash,
    [property: JsonPropertyName("genesisPayload")] string GenesisPayload)
{
    public const string CurrentFormat = "vault-checkpoint-copy/v1";
    public const string FileName = "checkpoint.json";

    /// <summary>Is the checkpoint signed by the checkpoint key that the genesis it carries names, for the same vault?</summary>
    public bool IsSignedByItsGenesis()
    {
        try
        {
            var genesis = System.Text.Json.JsonSerializer.Deserialize<Vaults.VaultCreated>(Convert.FromBase64String(GenesisPayload));
            return genesis?.CheckpointKey is { } key && genesis.VaultId == VaultId && Checkpoint.SignatureHolds(VaultId, key);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or ArgumentException)
        {
            return false;
        }
    }
}
