using System.Numerics;
using System.Runtime.Intrinsics;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// Fills dropout masks fast: independent xoshiro128** generators (Blackman and Vigna), one per SIMD
/// lane, draw 32-bit numbers a vector at a time and a compare against the rate's threshold gives a
/// vector of keep bits without a branch. <see cref="System.Random.NextDouble"/> costs ~16 ns a value,
/// and W3's two dropout layers draw 50,000 mask values per batch, which made them a quarter of an epoch.
/// </summary>
internal sealed class MaskGenerator : Backends.IDropoutSampler
{
    private Vector<uint> _s0, _s1, _s2, _s3;

    /// <summary>Seeds every lane from <paramref name="seedSource"/>, so a seeded run repeats its masks.</summary>
    public MaskGenerator(System.Random seedSource)
    {
        int lanes = Vector<uint>.Count;
        var words = new uint[4, lanes];
        for (int lane = 0; lane < lanes; lane++)
        {
            do
            {
                for (int w = 0; w < 4; w++) words[w, lane] = (uint)seedSource.Next() ^ ((uint)seedSource.Next() << 16);
            }
            while ((words[0, lane] | words[1, lane] | words[2, lane] | words[3, lane]) == 0);
        }
        _s0 = Row(words, 0, lanes); _s1 = Row(words, 1, lanes); _s2 = Row(words, 2, lanes); _s3 = Row(words, 3, lanes);
    }

    private static Vector<uint> Row(uint[,] words, int w, int lanes)
    {
        var row = new uint[lanes];
        for (int i = 0; i < lanes; i++) row[i] = words[w, i];
        return new Vector<uint>(row);
    }

    /// <summary>
    /// Draws a dropout mask as bits: bit (i mod 8) of byte i/8 is set when value i is kept, which
    /// happens with probability 1 − <paramref name="rate"/>. Bits, not floats: W3's first mask is 32×
    /// smaller this way, and the layer's inputs and gradients then have the cache to themselves.
    /// </summary>
    public void FillKeepBits(Span<byte> bits, int count, double rate)
    {
        if (bits.Length < (count + 7) / 8)
            throw new ArgumentException($"A mask of {count} values needs {(count + 7) / 8} bytes of bits; got {bits.Length}.", nameof(bits));
        // Keep a value when its 32-bit draw is at or above rate·2³²: P(drop) = rate to within 2⁻³².
        var threshold = new Vector<uint>((uint)Math.Min(uint.MaxValue, Math.Round(rate * 4294967296.0)));
        int width = Vector<uint>.Count;
        bits[..((count + 7) / 8)].Clear();
        var (s0, s1, s2, s3) = (_s0, _s1, _s2, _s3);
        for (int i = 0; i < count; i += width)
        {
            var draw = RotateLeft(s1 * 5u, 7) * 9u;
            var t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
            s2 ^= t;
            s3 = RotateLeft(s3, 11);
            var kept = Vector.GreaterThanOrEqual(draw, threshold);
            ulong laneBits = width == 8 ? Vector256.ExtractMostSignificantBits(kept.AsVector256())
                : width == 16 ? Vector512.ExtractMostSignificantBits(kept.AsVector512())
                : LaneBits(kept, width);
            int valid = Math.Min(width, count - i);
            laneBits &= (1UL << valid) - 1;
            // i is a multiple of the width, a power of two: the lanes fill whole bytes or part of one.
            if (width >= 8)
                for (int b = 0; b < (valid + 7) / 8; b++) bits[i / 8 + b] = (byte)(laneBits >> (8 * b));
            else
                bits[i / 8] |= (byte)(laneBits << (i % 8));
        }
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    private static ulong LaneBits(Vector<uint> kept, int width)
    {
        ulong bits = 0;
        for (int lane = 0; lane < width; lane++) if (kept[lane] != 0) bits |= 1UL << lane;
        return bits;
    }

    /// <summary>
    /// <c>output[i] = input[i] · (bit i of <paramref name="keepBits"/> ? <paramref name="keep"/> : 0)</c>: the
    /// product with the float mask those bits stand for, so NaN and infinite inputs propagate as they would.
    /// </summary>
    public static void MultiplyByMask(ReadOnlySpan<float> input, ReadOnlySpan<byte> keepBits, float keep, Span<float> output)
    {
        int n = input.Length, i = 0;
        if (output.Length < n || keepBits.Length < (n + 7) / 8)
            throw new ArgumentException($"Masking {n} values needs an output of {n} and {(n + 7) / 8} bytes of bits; got {output.Length} and {keepBits.Length}.");
        ref float inputStart = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(input);
        ref float outputStart = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(output);
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
            var kept = Vector256.Create(keep);
            for (; i <= n - 8; i += 8)
            {
                var set = Vector256.Equals(Vector256.Create((int)keepBits[i >> 3]) & lanes, lanes).AsSingle();
                var mask = Vector256.ConditionalSelect(set, kept, Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref inputStart, (nuint)i) * mask).StoreUnsafe(ref outputStart, (nuint)i);
            }
        }
        for (; i < n; i++) output[i] = input[i] * (((keepBits[i >> 3] >> (i & 7)) & 1) != 0 ? keep : 0f);
    }

    /// <summary><c>mask[i] = bit i of <paramref name="keepBits"/> ? <paramref name="keep"/> : 0</c>: the float mask the bits stand for.</summary>
    public static void SpreadKeepBits(ReadOnlySpan<byte> keepBits, float keep, Span<float> mask)
    {
        if (keepBits.Length < (mask.Length + 7) / 8)
            throw new ArgumentException($"A mask of {mask.Length} values needs {(mask.Length + 7) / 8} bytes of bits; got {keepBits.Length}.", nameof(keepBits));
        for (int i = 0; i < mask.Length; i++) mask[i] = ((keepBits[i >> 3] >> (i & 7)) & 1) != 0 ? keep : 0f;
    }

    private static Vector<uint> RotateLeft(Vector<uint> x, int k) => (x << k) | (x >> (32 - k));
}
