#!/usr/bin/env python3
"""Writes GemmMicroKernels.g.cs: the register-blocked SGEMM micro-kernels.

C# has no const generics and the JIT keeps only named locals in registers, so each tile height
(MR) is its own method with its accumulators spelled out. Run from this folder:
    python3 GemmMicroKernels.gen.py > GemmMicroKernels.g.cs
"""

# Compiled fully optimised on the first call, never through tiered PGO: the instrumented tier's profile depends on which
# shapes ran first, and in about one process in four it left the transposed-A kernels at half speed for the whole run
# (the MLP's dW = x^T.dz at U = 128: 27 against 55 us per product, both layers at once; gone with DOTNET_TieredPGO=0).
# ReadyToRun does not precompile these vector methods either, so nothing is lost there. Only those kernels: marked on
# every kernel, the breast-cancer MLP's small products (narrow and untransposed kernels) ran 2-3 % slower without PGO.
OPTIMIZED = "    [MethodImpl(MethodImplOptions.AggressiveOptimization)]"

def prefetch_pair(w, count):
    """A line per two k, two while more lines are left than pairs of k (a tile of few rows has a larger share)."""
    w("            if (Sse.IsSupported && lines > 0)")
    w("            {")
    w("                Sse.Prefetch1(prefetch);")
    w("                prefetch += 16;")
    w(f"                if (--lines > ({count} - p) >> 1)")
    w("                {")
    w("                    Sse.Prefetch1(prefetch);")
    w("                    prefetch += 16;")
    w("                    lines--;")
    w("                }")
    w("            }")

# A row of a later C tile every this many k (a power of two) in the kernels that fetch one (prefetch_tile_rows).
TILE_ROW_EVERY_K = 8

def prefetch_tile_rows(w, lanes):
    """The next row of the later C tile (both ends of its vectors, which need not start on a line) into L1."""
    w(f"            if (Sse.IsSupported && tileRows > 0 && (p & {TILE_ROW_EVERY_K - 1}) == 0)")
    w("            {")
    w("                Sse.Prefetch0(tile);")
    w(f"                Sse.Prefetch0(tile + {2 * lanes - 1});")
    w("                tile += ldc;")
    w("                tileRows--;")
    w("            }")

def kernel(width, mr, rows_contiguous, vectors=2, prefetching=False, tile_prefetch=False):
    """An MR x (vectors * lanes) tile of C; vectors is 2 for the panel kernels, 1 for the narrow ones. prefetching: the
    kernel also asks for `lines` cache lines from `prefetch` on into L2, one per two k, spread over its k loop.
    tile_prefetch (with prefetching): it also asks for the `tileRows` rows of a later C tile from `tile` on (ldc apart) into
    L1, a row every TILE_ROW_EVERY_K k."""
    vec = f"Vector{width}<float>"
    lanes = width // 32
    narrow = "Narrow" if vectors == 1 else ""
    name = f"V{width}_{narrow}{'Tn' if rows_contiguous else 'Nn'}{'Pf' if prefetching else ''}{'C' if tile_prefetch else ''}{mr}"
    out = []
    w = out.append
    w(f"    // C[{mr}x{vectors*lanes}] (+)= A-tile · B-panel; A rows {'contiguous, k stride lda' if rows_contiguous else 'strided by lda, k contiguous'}"
      + ("; lines from prefetch on asked for into L2" if prefetching else "")
      + ("; the rows of a later C tile into L1." if tile_prefetch else "."))
    if rows_contiguous and vectors == 2:
        w(OPTIMIZED)
    extra = ", float* prefetch, nint lines" if prefetching else ""
    if tile_prefetch:
        extra += ", float* tile, nint tileRows"
    w(f"    private static void {name}(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, nint k, bool accumulate{extra})")
    w("    {")
    if not rows_contiguous:
        for r in range(mr):
            w(f"        float* a{r} = a + {r} * lda;" if r else "        float* a0 = a;")
    for r in range(mr):
        w(f"        {vec} c{r}0, c{r}1;" if vectors == 2 else f"        {vec} c{r}0;")
    w("        if (accumulate)")
    w("        {")
    for r in range(mr):
        second = f" c{r}1 = Vector{width}.Load(c + {r} * ldc + {lanes});" if vectors == 2 else ""
        w(f"            c{r}0 = Vector{width}.Load(c + {r} * ldc);{second}")
    w("        }")
    w("        else")
    w("        {")
    for r in range(mr):
        w(f"            c{r}0 = default; c{r}1 = default;" if vectors == 2 else f"            c{r}0 = default;")
    w("        }")
    V = f"Vector{width}"
    def step(w, ind, poff):
        w(f"{ind}{{")
        bo = f" + {poff} * ldb" if poff else ""
        w(f"{ind}    var b0 = {V}.Load(b{bo}); var b1 = {V}.Load(b{bo} + {lanes});" if vectors == 2 else f"{ind}    var b0 = {V}.Load(b{bo});")
        for r in range(mr):
            if rows_contiguous:
                src = f"a[{poff} * lda + {r}]" if poff else f"a[{r}]"
            else:
                src = f"a{r}[p + {poff}]" if poff else f"a{r}[p]"
            second = f" c{r}1 = {V}.FusedMultiplyAdd(x{r}, b1, c{r}1);" if vectors == 2 else ""
            w(f"{ind}    var x{r} = {V}.Create({src}); c{r}0 = {V}.FusedMultiplyAdd(x{r}, b0, c{r}0);{second}")
        w(f"{ind}}}")
    w("        nint p = 0;")
    w("        for (; p + 1 < k; p += 2)")
    w("        {")
    if prefetching:
        prefetch_pair(w, "k")
    if tile_prefetch:
        prefetch_tile_rows(w, lanes)
    step(w, "            ", 0)
    step(w, "            ", 1)
    w("            b += 2 * ldb;")
    if rows_contiguous:
        w("            a += 2 * lda;")
    w("        }")
    w("        if (p < k)")
    step(w, "        ", 0)
    if prefetching:
        w("        for (; Sse.IsSupported && lines > 0; lines--, prefetch += 16) Sse.Prefetch1(prefetch);")
    if tile_prefetch:
        w(f"        for (; Sse.IsSupported && tileRows > 0; tileRows--, tile += ldc) {{ Sse.Prefetch0(tile); Sse.Prefetch0(tile + {2 * lanes - 1}); }}")
    for r in range(mr):
        w(f"        c{r}0.Store(c + {r} * ldc); c{r}1.Store(c + {r} * ldc + {lanes});" if vectors == 2 else f"        c{r}0.Store(c + {r} * ldc);")
    w("    }")
    w("")
    return name, "\n".join(out)

def lead_kernel(width, mr, prefetching=False):
    """An MR x (2 * lanes) tile of C = init row + lead·leadB + A·B in one call, C held in registers throughout: each
    element is one chain over the lead's K, then A's K, in order, so its bits are those of filling C with the init row,
    adding lead·leadB and then A·B with the kernels above. Both A and the lead have k contiguous; leadB is a packed
    panel (row stride 32)."""
    V = f"Vector{width}"
    lanes = width // 32
    name = f"V{width}_LeadNn{'Pf' if prefetching else ''}{mr}"
    out = []
    w = out.append
    w(f"    // C[{mr}x{2*lanes}] = init + lead-tile · leadB-panel + A-tile · B-panel; lead and A rows strided, k contiguous.")
    extra = ", float* prefetch, nint lines" if prefetching else ""
    w(f"    private static void {name}(float* lead, float* leadB, nint leadK, float* init, float* a, nint lda, float* b, nint ldb, float* c, nint ldc, nint k{extra})")
    w("    {")
    for r in range(mr):
        w(f"        {V}<float> c{r}0, c{r}1;")
    w("        if (init != null)")
    w("        {")
    w(f"            var i0 = {V}.Load(init); var i1 = {V}.Load(init + {lanes});")
    for r in range(mr):
        w(f"            c{r}0 = i0; c{r}1 = i1;")
    w("        }")
    w("        else")
    w("        {")
    for r in range(mr):
        w(f"            c{r}0 = default; c{r}1 = default;")
    w("        }")
    # The same row pointers serve the lead, then A, so the register allocator sees one set.
    for r in range(mr):
        w(f"        float* a{r} = lead + {r} * leadK;" if r else "        float* a0 = lead;")
    def step(ind, poff, bptr, bstride):
        w(f"{ind}{{")
        bo = f" + {poff} * {bstride}" if poff else ""
        w(f"{ind}    var b0 = {V}.Load({bptr}{bo}); var b1 = {V}.Load({bptr}{bo} + {lanes});")
        for r in range(mr):
            src = f"a{r}[p + {poff}]" if poff else f"a{r}[p]"
            w(f"{ind}    var x{r} = {V}.Create({src}); c{r}0 = {V}.FusedMultiplyAdd(x{r}, b0, c{r}0); c{r}1 = {V}.FusedMultiplyAdd(x{r}, b1, c{r}1);")
        w(f"{ind}}}")
    def loop(bptr, bstride, count, prefetch=False):
        w("        p = 0;")
        w(f"        for (; p + 1 < {count}; p += 2)")
        w("        {")
        if prefetch:
            prefetch_pair(w, count)
        step("            ", 0, bptr, bstride)
        step("            ", 1, bptr, bstride)
        w(f"            {bptr} += 2 * {bstride};")
        w("        }")
        w(f"        if (p < {count})")
        step("        ", 0, bptr, bstride)
    w("        nint p;")
    loop("leadB", str(32), "leadK")
    for r in range(mr):
        w(f"        a{r} = a + {r} * lda;" if r else "        a0 = a;")
    loop("b", "ldb", "k", prefetching)
    if prefetching:
        w("        for (; Sse.IsSupported && lines > 0; lines--, prefetch += 16) Sse.Prefetch1(prefetch);")
    for r in range(mr):
        w(f"        c{r}0.Store(c + {r} * ldc); c{r}1.Store(c + {r} * ldc + {lanes});")
    w("    }")
    w("")
    return name, "\n".join(out)

def main():
    print("// <auto-generated> by GemmMicroKernels.gen.py; edit the generator, not this file. </auto-generated>")
    print("using System.Runtime.CompilerServices;")
    print("using System.Runtime.Intrinsics;")
    print("using System.Runtime.Intrinsics.X86;")
    print("")
    print("namespace Neurite.Backends.Cpu.Kernels;")
    print("")
    print("internal static unsafe partial class GemmMicroKernels")
    print("{")
    tables = {}
    for width, maxmr in ((512, 12), (256, 6)):
        for contiguous in (False, True):
            names = []
            for mr in range(1, maxmr + 1):
                n, code = kernel(width, mr, contiguous)
                names.append(n)
                print(code)
            tables[(width, contiguous, 2)] = names
    # The rows-contiguous kernels again, each also fetching its share of the next packed B block into L2 as it goes: asked
    # for all at once before the call, a share of a 32 KiB block (85 lines for a tile of 64 rows) filled the line-fill
    # buffers and stalled the core until L3 answered.
    pf_tables = {}
    for width, maxmr in ((512, 12), (256, 6)):
        for contiguous in (True, False):
            names = []
            for mr in range(1, maxmr + 1):
                n, code = kernel(width, mr, contiguous, prefetching=True)
                names.append(n)
                print(code)
            pf_tables[(width, contiguous)] = names
    # The rows-contiguous prefetching kernels once more, each also fetching the rows of a later C tile a row every few k: the
    # weight-gradient pass's C (dR of an LSTM(1024), 16 MiB) comes from L3 at every tile, and a tile's 24 lines asked for at
    # once before the call filled the line-fill buffers as above.
    tile_tables = {}
    for width, maxmr in ((512, 12), (256, 6)):
        names = []
        for mr in range(1, maxmr + 1):
            n, code = kernel(width, mr, True, prefetching=True, tile_prefetch=True)
            names.append(n)
            print(code)
        tile_tables[width] = names
    # One vector wide (16 or 8 columns) for the narrow products of small layers; 8 rows give the
    # 8 independent FMA chains two FMA units with 4-cycle latency need.
    for width in (512, 256):
        for contiguous in (False, True):
            names = []
            for mr in range(1, 9):
                n, code = kernel(width, mr, contiguous, vectors=1)
                names.append(n)
                print(code)
            tables[(width, contiguous, 1)] = names
    # The untransposed and lead kernels fetching lines for the caller (Gemm.SidePrefetch): the next recurrent step's arrays.
    lead_tables = {}
    for width, maxmr in ((512, 12), (256, 6)):
        for prefetching in (False, True):
            names = []
            for mr in range(1, maxmr + 1):
                n, code = lead_kernel(width, mr, prefetching)
                names.append(n)
                print(code)
            lead_tables[(width, prefetching)] = names
    print("    public const int MaxRowsV512 = 12;")
    print("    public const int MaxRowsV256 = 6;")
    print("    public const int MaxRowsNarrow = 8;")
    print("")
    for (width, contiguous, vectors), names in tables.items():
        narrow = "Narrow" if vectors == 1 else ""
        tname = f"V{width}{narrow}{'Tn' if contiguous else 'Nn'}"
        cols = vectors * width // 32
        print(f"    /// <summary>Index MR-1 gives the {width}-bit kernel for a tile of MR rows and {cols} columns.</summary>")
        print(f"    public static readonly nint[] {tname} =")
        print("    [")
        for n in names:
            print(f"        (nint)(delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, void>)&{n},")
        print("    ];")
        print("")
    for (width, contiguous), names in pf_tables.items():
        kind = "rows-contiguous" if contiguous else "untransposed"
        what = "the next packed B block" if contiguous else "the caller's side prefetch"
        print(f"    /// <summary>Index MR-1 gives the {width}-bit {kind} kernel for MR rows and {width // 16} columns that also")
        print(f"    /// asks for cache lines into L2 as it runs ({what}).</summary>")
        print(f"    public static readonly nint[] V{width}{'Tn' if contiguous else 'Nn'}Pf =")
        print("    [")
        for n in names:
            print(f"        (nint)(delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, void>)&{n},")
        print("    ];")
        print("")
    for width, names in tile_tables.items():
        print(f"    /// <summary>Index MR-1 gives the {width}-bit rows-contiguous kernel for MR rows and {width // 16} columns that also asks")
        print("    /// for cache lines into L2 and the rows of a later C tile into L1 as it runs.</summary>")
        print(f"    public static readonly nint[] V{width}TnPfC =")
        print("    [")
        for n in names:
            print(f"        (nint)(delegate* managed<float*, nint, float*, nint, float*, nint, nint, bool, float*, nint, float*, nint, void>)&{n},")
        print("    ];")
        print("")
    for (width, prefetching), names in lead_tables.items():
        print(f"    /// <summary>Index MR-1 gives the {width}-bit kernel for a tile of MR rows and {width // 16} columns that starts from an init")
        print("    /// row (or zero), adds a lead product and then the product proper, C in registers throughout"
              + ("; it also asks for cache lines into L2 as it runs.</summary>" if prefetching else ".</summary>"))
        print(f"    public static readonly nint[] V{width}LeadNn{'Pf' if prefetching else ''} =")
        print("    [")
        extra = "float*, nint, " if prefetching else ""
        for n in names:
            print(f"        (nint)(delegate* managed<float*, float*, nint, float*, float*, nint, float*, nint, float*, nint, nint, {extra}void>)&{n},")
        print("    ];")
        print("")
    print("}")

main()
