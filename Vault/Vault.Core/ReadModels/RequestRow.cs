namespace Vault.Core.ReadModels;

/// <summary>
/// One protected request as the requests read model keeps it: its state as <see cref="Governance.RequestProof"/>
/// re-proves it from the request's own records (JSON of <see cref="Governance.DeletionRequestState"/>), its kind and
/// status as columns, and the log positions of its first record and of its last change.
/// </summary>
public sealed record RequestRow(string RequestId, int Kind, int Status, string StateJson, long OpenedAt, long ChangedAt);
