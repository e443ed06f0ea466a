using System.Text.RegularExpressions;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Log;

namespace Vault.Services;

/// <summary>
/// A protected request as read from its stream: the state re-proved from its signed records (never from the records
/// the vault derived), the stream version it was read at, every decoded record (refused attempts too, for people), and
/// the proof with what did not hold.
/// </summary>
public sealed record DeletionRequestView(DeletionRequestState State, long Version, IReadOnlyList<IRequestEvent> Events)
{
    public RequestProof Proof { get; init; } = new();
}

/// <summary>
/// Runs deletion decisions against the log: read the request's stream, decide with the rules in force, append the
/// decision under the stream version that was read (a concurrent change makes it decide again). Refusals are appended
/// too, then reported as <see cref="GovernanceRefusedException"/>.
/// </summary>
public sealed partial class DeletionService(IEventLog log, TimeProvider clock)
{
    public const string StreamPrefix = "deletion-";

    public IEventLog Log => log;

    public static string StreamOf(string requestId) => StreamPrefix + ValidateId(requestId);

    public static bool IsValidId(string requestId) => RequestIdPattern().IsMatch(requestId);

    public static string ValidateId(string requestId) =>
        RequestIdPattern().IsMatch(requestId) ? requestId
            : throw new VaultConfigurationException($"'{requestId}' is not a request id: use 1 to 64 lower-case letters, digits and '-'.");

    public async Task<DeletionRequestView> LoadAsync(string requestId, CancellationToken cancellationToken = default) =>
        await LoadAsync(requestId, await GovernanceReader.ReadStateAsync(log, null, cancellationToken), cancellationToken);

    public async Task<DeletionRequestView> LoadAsync(string requestId, GovernanceState governance, CancellationToken cancellationToken = default)
    {
        var records = new List<(long, IRequestEvent)>();
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(StreamOf(requestId), 0, cancellationToken))
        {
            version = record.StreamVersion;
            if (EventCodec.Decode(record) is IRequestEvent e)
                records.Add((record.Position, e));
        }

        return View(records, version, governance);
    }

    public async Task<IReadOnlyList<DeletionRequestView>> ListAsync(CancellationToken cancellationToken = default)
    {
        var governance = await GovernanceReader.ReadStateAsync(log, null, cancellationToken);
        var streams = new Dictionary<string, (List<(long, IRequestEvent)> Records, long Version)>(StringComparer.Ordinal);
        await foreach (var record in log.ReadStreamsStartingWithAsync(StreamPrefix, cancellationToken))
        {
            if (EventCodec.Decode(record) is not IRequestEvent e)
                continue;
            if (!streams.TryGetValue(record.StreamId, out var entry))
                streams[record.StreamId] = entry = ([], -1);
            entry.Records.Add((record.Position, e));
            streams[record.StreamId] = (entry.Records, record.StreamVersion);
        }

        return [.. streams.Values.Select(s => View(s.Records, s.Version, governance))];
    }

    private static DeletionRequestView View(List<(long Position, IRequestEvent Event)> records, long version, GovernanceState governance)
    {
        var proof = RequestProof.Of(records, p => governance.ContextAt(p, default));
        return new DeletionRequestView(proof.State, version, [.. records.Select(r => r.Event)]) { Proof = proof };
    }

    public Task<DeletionRequestView> RequestAsync(RequestDeletion command, CancellationToken cancellationToken = default) =>
        DecideAsync(command.RequestId, command.RequestedBy.Value, (state, context) => DeletionDecider.Request(state, command, context), cancellationToken);

    public Task<DeletionRequestView> ApproveAsync(ApproveDeletion command, CancellationToken cancellationToken = default) =>
        DecideAsync(command.RequestId, command.ApprovedBy.Value, (state, context) => DeletionDecider.Approve(state, command, context), cancellationToken);

    public Task<DeletionRequestView> VetoAsync(VetoDeletion command, CancellationToken cancellationToken = default) =>
        DecideAsync(command.RequestId, command.VetoedBy.Value, (state, context) => DeletionDecider.Veto(state, command, context), cancellationToken);

    /// <summary>
    /// Reads the request and the rules in force, decides, appends the decision (refusals too) under the version read.
    /// When the decision is accepted, <paramref name="beforeAppend"/> runs first: it applies an effect that must land
    /// before the request is marked done (a governance change, a hold release); a version conflict there decides again.
    /// </summary>
    public async Task<DeletionRequestView> DecideAsync(string requestId, string actor, Func<DeletionRequestState, GovernanceContext, Decision> decide, CancellationToken cancellationToken,
        Func<DeletionRequestState, GovernanceContext, CancellationToken, Task>? beforeAppend = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var governance = await GovernanceReader.ReadStateAsync(log, null, cancellationToken);
            var view = await LoadAsync(requestId, governance, cancellationToken);
            var context = new GovernanceContext(governance.VaultId, governance.Rules, clock.GetUtcNow(), governance.Version);
            var decision = decide(view.State, context);
            try
            {
                if (decision.Accepted && beforeAppend is not null)
                    await beforeAppend(view.State, context, cancellationToken);
                if (decision.Events.Count > 0)
                {
                    await log.AppendAsync(StreamOf(requestId), view.Version < 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exactly(view.Version),
                        [.. decision.Events.Select(e => EventCodec.Encode(e, actor))], cancellationToken);
                }
            }
            catch (WrongExpectedVersionException) when (attempt < 5)
            {
                continue; // someone else decided on this request (or changed what the effect depends on) meanwhile: decide again
            }

            if (decision.Refusal is { } refusal)
                throw new GovernanceRefusedException(refusal);
            return await LoadAsync(requestId, cancellationToken);
        }
    }

    /// <summary>Appends the record that a request's effect, already applied by an earlier run cut short, is done.</summary>
    public async Task<DeletionRequestView> MarkExecutedAsync(DeletionRequestState state, string actor, CancellationToken cancellationToken)
    {
        await log.AppendAsync(StreamOf(state.RequestId), ExpectedVersion.Any,
            [EventCodec.Encode(new RequestExecuted(state.RequestId, state.Targets, [], clock.GetUtcNow()), actor)], cancellationToken);
        return await LoadAsync(state.RequestId, cancellationToken);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex RequestIdPattern();
}
