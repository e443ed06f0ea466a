using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage;

namespace Vault.Services;

/// <summary>
/// The rules in force at some point of the log: genesis, then every governance change that its own signed request
/// proves, in order. <see cref="Version"/> is the version of stream "vault" they were read at (0 while only genesis
/// exists). <see cref="Eras"/> says which rules were in force from which position on, so a signature is judged by
/// the rules of its own time.
/// </summary>
public sealed record GovernanceState(string VaultId, GovernanceRules Rules, long Version, IReadOnlyList<(long Position, GovernanceChanged Change)> Changes)
{
    public IReadOnlyList<GovernanceEra> Eras { get; init; } = [];

    /// <summary>The genesis record's checkpoint key (hex), when the vault has one.</summary>
    public string? CheckpointKey { get; init; }

    /// <summary>The rules in force just before <paramref name="position"/>, as a decision context at <paramref name="now"/>.</summary>
    public GovernanceContext ContextAt(long position, DateTimeOffset now)
    {
        var era = Eras[0];
        foreach (var e in Eras)
        {
            if (e.From >= position)
                break;
            era = e;
        }

        return new GovernanceContext(VaultId, era.Rules, now, era.Version);
    }
}

/// <summary>Rules in force from the record after <see cref="From"/> on (genesis: From = 1).</summary>
public sealed record GovernanceEra(long From, GovernanceRules Rules, long Version);

/// <summary>
/// The rules in force, derived by replaying stream "vault": genesis, then each GovernanceChanged. A change counts
/// only when its request, re-proved from its signatures (<see cref="RequestProof"/>), was a governance change for
/// exactly these rules that could execute when the change was recorded; a change without that proof means someone
/// wrote the log behind the vault's back, and nothing is decided on it.
/// </summary>
public static class GovernanceReader
{
    public static async Task<(string VaultId, GovernanceRules Rules)> ReadAsync(IEventLog log, CancellationToken cancellationToken = default)
    {
        var state = await ReadStateAsync(log, null, cancellationToken);
        return (state.VaultId, state.Rules);
    }

    /// <summary>The rules in force after the record at <paramref name="upToPosition"/> (all of the log when null).</summary>
    public static async Task<GovernanceState> ReadStateAsync(IEventLog log, long? upToPosition, CancellationToken cancellationToken = default)
    {
        GovernanceState? state = null;
        await foreach (var record in log.ReadStreamAsync(VaultStreams.Vault, 0, cancellationToken))
        {
            if (record.Position > upToPosition)
                break;
            try
            {
                if (state is null && VaultCreated.From(record) is { } genesis)
                {
                    var rules = genesis.Governance.ToRules();
                    state = new GovernanceState(genesis.VaultId, rules, record.StreamVersion, []) { Eras = [new GovernanceEra(record.Position, rules, record.StreamVersion)], CheckpointKey = genesis.CheckpointKey };
                }
                else if (state is not null && EventCodec.Decode(record) is GovernanceChanged change)
                {
                    var problem = await ProveAsync(log, state, record.Position, change, cancellationToken);
                    if (problem is not null)
                        throw new StorageCorruptException($"The governance change at position {record.Position} is not backed by its signatures ({problem}). Someone wrote the log behind the vault's back: run 'vault log verify' and compare with a site copy; nothing is decided on these rules.");
                    var rules = change.Governance.ToRules();
                    state = state with
                    {
                        Rules = rules, Version = record.StreamVersion, Changes = [.. state.Changes, (record.Position, change)],
                        Eras = [.. state.Eras, new GovernanceEra(record.Position, rules, record.StreamVersion)],
                    };
                }
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException)
            {
                throw new StorageCorruptException($"The vault stream holds governance rules that do not validate at position {record.Position} ({ex.Message}).", ex);
            }
        }

        return state ?? throw new StorageCorruptException("The vault's log has no genesis record on stream 'vault'.");
    }

    /// <summary>Why the change at <paramref name="position"/> is not proved by its request, or null when it is.</summary>
    public static async Task<string?> ProveAsync(IEventLog log, GovernanceState before, long position, GovernanceChanged change, CancellationToken cancellationToken)
    {
        if (!DeletionService.IsValidId(change.RequestId))
            return $"it names no valid request ('{change.RequestId}')";
        var request = await RequestBeforeAsync(log, before, change.RequestId, position, cancellationToken);
        return Problem(request, change, before.ContextAt(position, change.At));
    }

    /// <summary>
    /// The request as its records before <paramref name="position"/> prove it (an effect recorded at that position,
    /// a governance change or a rotation record, must rest on what was signed before it), under <paramref name="rules"/>.
    /// </summary>
    public static async Task<DeletionRequestState> RequestBeforeAsync(IEventLog log, GovernanceState rules, string requestId, long position, CancellationToken cancellationToken)
    {
        var records = new List<(long, IRequestEvent)>();
        await foreach (var r in log.ReadStreamAsync(DeletionService.StreamOf(requestId), 0, cancellationToken))
        {
            if (r.Position < position && EventCodec.Decode(r) is IRequestEvent e)
                records.Add((r.Position, e));
        }

        return RequestProof.Of(records, p => rules.ContextAt(p, default)).State;
    }

    /// <summary>Would the proved request have let this change be applied at its time? Null when yes.</summary>
    public static string? Problem(DeletionRequestState request, GovernanceChanged change, GovernanceContext context)
    {
        if (request.Kind != RequestKind.ChangeGovernance || request.Governance is not { } proposal)
            return $"request {change.RequestId} is not a signed governance change";
        if (proposal.Digest() != change.Governance.Digest())
            return $"request {change.RequestId} proposed other rules";
        if (DeletionDecider.MayExecute(request, "replay", context)?.Refusal is { } refusal)
            return $"request {change.RequestId} could not execute then: {refusal.Code}, {refusal.Reason}";
        return null;
    }
}
