namespace Ingest.Client;

/// <summary>How broker failures are worded, the same for the producer and the service.</summary>
public static class BrokerErrors
{
    /// <summary>The broker address without its password, for messages.</summary>
    public static string Redacted(string amqp) =>
        Uri.TryCreate(amqp, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{(uri.UserInfo.Length > 0 ? uri.UserInfo.Split(':')[0] + "@" : "")}{uri.Authority}{uri.AbsolutePath}" : "(an address that is not a URI)";

    /// <summary>The innermost cause, as a clause.</summary>
    public static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return ex is OperationCanceledException ? "no connection in time" : ex.Message.TrimEnd('.');
    }

    /// <summary>The sentence for a broker that could not be reached in time; <paramref name="consequence"/> says what was (not) done.</summary>
    public static string Unreachable(string amqp, TimeSpan timeout, Exception ex, string consequence) =>
        $"Could not reach the message broker at {Redacted(amqp)} within {timeout.TotalSeconds:F0} s ({Innermost(ex)}). "
        + $"Check that RabbitMQ is running there and that --amqp (or VAULT_AMQP) names it with the right user, password and vhost; {consequence}";
}
