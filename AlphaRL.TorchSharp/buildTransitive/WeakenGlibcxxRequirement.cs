// Build-time fix for TorchSharp 0.107 on GCC 12 systems (Debian 12): see AlphaRL.TorchSharp.targets.
// Hand-written because no tool on a stock machine edits ELF version flags (patchelf cannot), and the
// edit is tiny: walk the section headers to .gnu.version_r, walk its Verneed/Vernaux chain and set
// VER_FLG_WEAK on the entry named GLIBCXX_3.4.32. Every offset read is bounds-checked.
#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class AlphaRLWeakenGlibcxxRequirement : Task
{
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string? libstdcxx = FindLibStdCxx();
        if (libstdcxx == null)
        {
            Log.LogMessage(MessageImportance.Low, "AlphaRL: no libstdc++.so.6 found; TorchSharp native patch not needed.");
            return true;
        }
        if (FileContains(libstdcxx, MissingVersion))
        {
            Log.LogMessage(MessageImportance.Low, $"AlphaRL: {libstdcxx} provides {MissingVersion}; no patch needed.");
            return true;
        }
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                Patch(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogError($"AlphaRL: cannot make TorchSharp load on this system ({libstdcxx} lacks {MissingVersion}): " +
                             $"patching '{path}' failed: {e.Message}. Make the NuGet package folder writable, or use a system with GCC 13+ libstdc++.");
                return false;
            }
        }
        return true;
    }

    private void Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        int flagsOffset = FindVernauxFlags(elf, path);
        ushort flags = BitConverter.ToUInt16(elf, flagsOffset);
        if ((flags & VerFlagWeak) != 0)
        {
            Log.LogMessage(MessageImportance.Low, $"AlphaRL: {path} already patched.");
            return;
        }
        flags |= VerFlagWeak;
        elf[flagsOffset] = (byte)flags;
        elf[flagsOffset + 1] = (byte)(flags >> 8);
        string temp = path + ".alpharl-" + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temp, elf);
        File.Replace(temp, path, null); // atomic rename over the original
        Log.LogMessage(MessageImportance.High, $"AlphaRL: marked {MissingVersion} weak in {path} so TorchSharp loads with this system's libstdc++.");
    }

    private static int FindVernauxFlags(byte[] elf, string path)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3a);
        int shnum = BitConverter.ToUInt16(elf, 0x3c);
        for (int i = 0; i < shnum; i++)
        {
            long sh = Check(elf, shoff + (long)i * shentsize, 64);
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 44);
            long strSection = Check(elf, shoff + (long)link * shentsize, 64);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)strSection + 24);
            long verneed = offset;
            for (int n = 0; n < count; n++)
            {
                Check(elf, verneed, 16);
                int auxCount = BitConverter.ToUInt16(elf, (int)verneed + 2);
                long aux = verneed + BitConverter.ToUInt32(elf, (int)verneed + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    Check(elf, aux, 16);
                    long name = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, name) == MissingVersion) return (int)aux + 4; // vna_flags
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                verneed += BitConverter.ToUInt32(elf, (int)verneed + 12);
            }
        }
        throw new InvalidDataException($"no version requirement {MissingVersion} found in {path}");
    }

    private static long Check(byte[] elf, long offset, int length)
    {
        if (offset < 0 || offset + length > elf.Length) throw new InvalidDataException($"ELF structure out of bounds at offset {offset}");
        return offset;
    }

    private static string ReadCString(byte[] elf, long offset)
    {
        Check(elf, offset, 1);
        int end = Array.IndexOf(elf, (byte)0, (int)offset);
        if (end < 0) throw new InvalidDataException("unterminated ELF string");
        return Encoding.ASCII.GetString(elf, (int)offset, end - (int)offset);
    }

    private static string? FindLibStdCxx()
    {
        // The copy the loader would pick is the one this very process has mapped, when it has one.
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash >= 0 && line.IndexOf("libstdc++.so.6", slash, StringComparison.Ordinal) >= 0)
                    return line.Substring(slash).Trim();
            }
        }
        catch (IOException) { }
        foreach (string dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib" })
        {
            string candidate = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static bool FileContains(string path, string text)
    {
        byte[] needle = Encoding.ASCII.GetBytes(text + "\0");
        byte[] haystack = File.ReadAllBytes(path);
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }
}
