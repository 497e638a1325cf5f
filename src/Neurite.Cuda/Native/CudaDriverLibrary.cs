using System.Reflection;
using System.Runtime.InteropServices;

namespace Neurite.Cuda.Native;

/// <summary>
/// ILGPU asks for the CUDA driver as <c>"cuda"</c>, the Windows name; on Linux the driver ships as
/// <c>libcuda.so.1</c> (the unversioned <c>libcuda.so</c> exists only where the CUDA toolkit is installed),
/// so the name is mapped here before ILGPU first touches the driver.
/// </summary>
internal static class CudaDriverLibrary
{
    private static int s_installed;

    /// <summary>The file the driver is loaded from on this OS.</summary>
    public static string FileName => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    /// <summary>Installs the resolver once per process (the runtime allows one per assembly).</summary>
    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 1) return;
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // ILGPU (on WSL) or the host application already maps ILGPU's libraries; theirs stands.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "cuda" && NativeLibrary.TryLoad(FileName, assembly, searchPath, out var handle) ? handle : IntPtr.Zero;

    /// <summary>True when the driver library can be loaded at all (says nothing about devices).</summary>
    public static bool IsLoadable()
    {
        if (!NativeLibrary.TryLoad(FileName, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
