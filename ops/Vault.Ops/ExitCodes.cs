using Vault.Core.Errors;

namespace Vault.Ops;

/// <summary>The documented exit codes of 'vault' (docs/cli.md). Scripts rely on them: never renumber.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int Usage = 2;
    public const int NotAVault = 3;
    public const int AlreadyExists = 4;
    public const int Unavailable = 5;
    public const int Corrupt = 6;
    public const int Refused = 7;
    public const int Conflict = 8;
    public const int BadKey = 9;
    public const int IntegrityViolation = 10;
    public const int GovernanceRefused = 11;
    /// <summary>Tonight's rotation did not write every pool (no blank media), or a drill could not restore every set it should.</summary>
    public const int Incomplete = 12;
    public const int Cancelled = 130;

    public static int For(FailureKind kind) => kind switch
    {
        FailureKind.Configuration => Usage,
        FailureKind.NotAVault => NotAVault,
        FailureKind.AlreadyExists => AlreadyExists,
        FailureKind.Unavailable => Unavailable,
        FailureKind.Corrupt => Corrupt,
        FailureKind.Refused => Refused,
        FailureKind.Conflict => Conflict,
        FailureKind.BadKey => BadKey,
        FailureKind.GovernanceRefused => GovernanceRefused,
        _ => InternalError,
    };
}
