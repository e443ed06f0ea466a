using System.Text;
using Rotation.Service.Custodians;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Storage.Log;

namespace Rotation.Custodian;

/// <summary>
/// Early release, proved by the custodian itself: an image leaves before its retain-until only for a signed rotation
/// request to bring that medium back ('vault rotation propose --ship LABEL --to SITE'), re-proved from the custodian's
/// own copy of the log — the approver keys and rules from the genesis it pinned and the governance changes proved
/// after it, every signature checked again, the quorum and twice the cooling-off delay counted by this custodian's
/// clock, no veto, not expired — and used once. Nothing the primary says about the request is taken on trust.
/// </summary>
internal static class CustodianRelease
{
    /// <summary>The approvers who signed, or a refusal that says why the request does not release <paramref name="label"/> today.</summary>
    public static async Task<IReadOnlyList<string>> ProveAsync(CustodianLogCopy copy, string pinnedVaultId, string pinnedGenesis, string requestId, string label,
        IReadOnlySet<string> used, DateTimeOffset now, CancellationToken ct)
    {
        if (!DeletionService.IsValidId(requestId))
            throw Refused($"'{requestId}' is not a request id");
        if (used.Contains(requestId))
            throw Refused($"request {requestId} has already released an image here; a request releases once");
        if (copy.Count == 0 || !Convert.ToHexStringLower(copy.HashAt(1)).Equals(pinnedGenesis, StringComparison.OrdinalIgnoreCase))
            throw Refused("this custodian's log copy does not begin with the genesis it pinned, so it cannot prove a request");

        // Only the records a proof reads: the rules (stream vault) and the requests (theirs prove governance changes).
        var stream = DeletionService.StreamOf(requestId);
        var records = new List<EventRecord>();
        await foreach (var line in copy.ReadAsync(1, ct))
        {
            var record = LogRecordLine.Parse(Encoding.UTF8.GetBytes(line));
            if (record.StreamId == VaultStreams.Vault || record.StreamId.StartsWith(DeletionService.StreamPrefix, StringComparison.Ordinal))
                records.Add(record);
        }

        GovernanceState governance;
        try
        {
            governance = await GovernanceReader.ReadStateAsync(new RecordListLog(records), null, ct);
        }
        catch (StorageCorruptException ex)
        {
            throw Refused($"the rules in this custodian's log copy do not prove out ({ex.Message})");
        }

        if (governance.VaultId != pinnedVaultId)
            throw Refused($"the log copy is of vault {governance.VaultId}, not the pinned {pinnedVaultId}");
        var events = records.Where(r => r.StreamId == stream).Select(r => (r.Position, Event: EventCodec.Decode(r) as IRequestEvent))
            .Where(r => r.Event is not null).Select(r => (r.Position, r.Event!)).ToList();
        if (events.Count == 0)
            throw Refused($"this custodian's log copy holds no request {requestId} (the primary sends its log on each rotation run; send it, then ask again)");
        var request = RequestProof.Of(events, p => governance.ContextAt(p, default)).State;
        var prefix = $"{RequestTargets.RotationPrefix}ship:{label}:";
        if (request.Kind != RequestKind.Rotation || request.Targets is not [var target] || !target.StartsWith(prefix, StringComparison.Ordinal))
            throw Refused($"request {requestId} is not a signed request to bring {label} back (it asks for {string.Join(", ", request.Targets)})");
        if (DeletionDecider.MayExecute(request, "custodian", governance.ContextAt(long.MaxValue, now))?.Refusal is { } refusal)
            throw Refused($"request {requestId} may not be carried out now by this custodian's clock ({refusal.Code}: {refusal.Reason})");
        return [.. request.Approvals.Keys.Order(StringComparer.Ordinal)];
    }

    private static CustodianRefusal Refused(string reason) => new(423, CustodianProtocol.Codes.Retained, reason);
}
