using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rotation.Service.Custodians;
using Vault.Core.Checkpoints;

namespace Rotation.Custodian;

/// <summary>
/// A site custodian over HTTP (Kestrel; HTTPS with a certificate): every request carries a bearer credential; images
/// stream in and out, never whole in memory. docs/sites.md describes each path.
/// </summary>
public static class CustodianServer
{
    private const string ActorKey = "vault-custodian-actor";
    private const int MaxCheckpointBytes = 1 << 20;

    /// <summary>Builds the custodian's web host on <paramref name="listen"/> (http://HOST:PORT, or https:// with <paramref name="certificate"/>).</summary>
    public static WebApplication Build(CustodianStore store, string listen, string? certificate = null, string? certificatePassword = null, LogLevel logLevel = LogLevel.Warning)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => o.IncludeScopes = false).SetMinimumLevel(logLevel);
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null; // images are any size; the deposit checks the size it was announced
            k.AddServerHeader = false;
            if (certificate is not null)
                k.ConfigureHttpsDefaults(h => h.ServerCertificate = X509CertificateLoader.LoadPkcs12FromFile(certificate, certificatePassword));
        });
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            var actor = store.Config.Authenticate(header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : null);
            if (actor is null)
            {
                store.RecordUnauthorized($"{context.Request.Method} {context.Request.Path}", context.Connection.RemoteIpAddress?.ToString());
                await Error(context, 401, CustodianProtocol.Codes.Unauthorized, "no valid credential: send 'Authorization: Bearer TOKEN' with a token this custodian issued");
                return;
            }

            context.Items[ActorKey] = actor;
            context.Response.Headers[CustodianProtocol.SiteHeader] = store.Site;
            context.Response.OnStarting(() =>
            {
                // Every answer names the journal's head after the request: whoever keeps it can later tell a journal cut short.
                context.Response.Headers[CustodianProtocol.JournalHeader] = $"{store.Journal.Count} {store.Journal.Head}";
                return Task.CompletedTask;
            });
            try
            {
                await next(context);
            }
            catch (CustodianRefusal refusal)
            {
                await Error(context, refusal.Status, refusal.Code, refusal.Message);
            }
            catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                // The other side went away mid-request (a deposit cut short): nothing was accepted; the partial file is gone.
                store.RecordAborted(actor, $"{context.Request.Method} {context.Request.Path}");
            }
        });

        app.MapGet("/" + CustodianProtocol.Images, () => Results.Json(store.List(), CustodianProtocol.Json));
        app.MapGet("/v1/images/{label}/facts", (string label) => Results.Json(store.Facts(label), CustodianProtocol.Json));
        app.MapPut("/v1/images/{label}", async (HttpContext context, string label) =>
        {
            var h = context.Request.Headers;
            var facts = await store.DepositAsync(label, h[CustodianProtocol.WriteIdHeader], h[CustodianProtocol.Sha256Header], context.Request.ContentLength,
                h[CustodianProtocol.RetainUntilHeader], h[CustodianProtocol.ArrivesOnHeader], Actor(context), context.Request.Body, context.RequestAborted);
            return Results.Json(new CustodyEntry(facts, facts.StatusOn(store.Today), store.Today), CustodianProtocol.Json, statusCode: 201);
        });
        app.MapGet("/v1/images/{label}", async (HttpContext context, string label) =>
        {
            var (facts, image) = store.Read(label, Actor(context));
            await using (image)
            {
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = facts.Size;
                context.Response.Headers[CustodianProtocol.Sha256Header] = facts.Sha256;
                context.Response.Headers[CustodianProtocol.WriteIdHeader] = facts.WriteId;
                await image.CopyToAsync(context.Response.Body, 1 << 20, context.RequestAborted);
            }
        });
        app.MapDelete("/v1/images/{label}", async (HttpContext context, string label) =>
        {
            var request = context.Request.Query["request"].ToString();
            var facts = await store.ReturnAsync(label, Actor(context), context.RequestAborted, request.Length > 0 ? request : null);
            return Results.Json(facts, CustodianProtocol.Json);
        });
        app.MapPost("/v1/images/{label}/retain", async (HttpContext context, string label) =>
        {
            var facts = await store.ExtendAsync(label, context.Request.Query["until"], Actor(context), context.RequestAborted);
            return Results.Json(facts, CustodianProtocol.Json);
        });
        app.MapPut("/" + CustodianProtocol.Checkpoints, async (HttpContext context) =>
        {
            CheckpointCopy? copy;
            try
            {
                using var limited = new MemoryStream();
                await context.Request.Body.CopyToAsync(limited, context.RequestAborted);
                if (limited.Length > MaxCheckpointBytes)
                    throw new CustodianRefusal(413, CustodianProtocol.Codes.Malformed, $"a checkpoint copy is at most {MaxCheckpointBytes} bytes");
                copy = JsonSerializer.Deserialize<CheckpointCopy>(limited.ToArray());
            }
            catch (JsonException ex)
            {
                throw new CustodianRefusal(400, CustodianProtocol.Codes.Malformed, $"the body is not a checkpoint copy ({ex.Message})");
            }

            await store.AcceptCheckpointAsync(copy ?? throw new CustodianRefusal(400, CustodianProtocol.Codes.Malformed, "the body is empty"), Actor(context), context.RequestAborted);
            return Results.NoContent();
        });
        app.MapGet("/" + CustodianProtocol.LatestCheckpoint, () =>
            store.LatestCheckpoint() is { } copy ? Results.Json(copy) : Results.Json(new CustodianError(CustodianProtocol.Codes.NotFound, "no checkpoint has been deposited here yet"), statusCode: 404));
        app.MapGet("/" + CustodianProtocol.LogHead, () => Results.Json(new LogCopyHead(store.LogCopy.Count, Convert.ToHexStringLower(store.LogCopy.Head)), CustodianProtocol.Json));
        app.MapPut("/" + CustodianProtocol.Log, async (HttpContext context) =>
        {
            if (!long.TryParse(context.Request.Query["from"], out var from))
                throw new CustodianRefusal(400, CustodianProtocol.Codes.Malformed, "say where the records sent start: ?from=POSITION");
            await store.AppendLogAsync(context.Request.Body, from, Actor(context), context.RequestAborted);
            return Results.Json(new LogCopyHead(store.LogCopy.Count, Convert.ToHexStringLower(store.LogCopy.Head)), CustodianProtocol.Json);
        });
        app.MapGet("/" + CustodianProtocol.Log, async (HttpContext context) =>
        {
            var from = long.TryParse(context.Request.Query["from"], out var f) ? f : 1;
            context.Response.ContentType = "application/x-ndjson";
            await using var writer = new StreamWriter(context.Response.Body, new System.Text.UTF8Encoding(false), 1 << 16);
            await foreach (var line in store.LogCopy.ReadAsync(from, context.RequestAborted))
            {
                await writer.WriteAsync(line);
                await writer.WriteAsync('\n');
            }
        });
        app.MapGet("/" + CustodianProtocol.Journal, async (HttpContext context) =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await using var journal = new FileStream(Path.Combine(store.RootDirectory, CustodianJournal.FileName), FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            await journal.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        return app;
    }

    /// <summary>The addresses Kestrel listens on once started (a port 0 becomes the one chosen).</summary>
    public static ICollection<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];

    private static string Actor(HttpContext context) => (string)context.Items[ActorKey]!;

    private static async Task Error(HttpContext context, int status, string code, string reason)
    {
        if (context.Response.HasStarted)
            return;
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new CustodianError(code, reason), CustodianProtocol.Json);
    }
}
