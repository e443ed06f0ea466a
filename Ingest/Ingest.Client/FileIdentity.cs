using System.Runtime.InteropServices;

namespace Ingest.Client;

/// <summary>
/// A file's inode number, which .NET does not expose: lstat(2) from the C library. On 64-bit Linux (x86-64 and
/// AArch64 glibc alike) struct stat starts with st_dev then st_ino, both 8 bytes. Elsewhere, or if the call fails,
/// there is no inode and the unchanged-file test falls back to path, size and mtime.
/// </summary>
public static partial class FileIdentity
{
    public static long? InodeOf(string path)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
            return null;
        Span<byte> stat = stackalloc byte[256]; // larger than struct stat on every 64-bit Linux ABI
        try
        {
            return LStat(path, ref MemoryMarshal.GetReference(stat)) == 0 ? BitConverter.ToInt64(stat[8..16]) : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LStat(string path, ref byte buffer);
}
