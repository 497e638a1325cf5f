namespace Neurite.Backends.Cpu;

/// <summary>
/// The dropout masks of one layer trained as two halves of a batch: each draw a half asks for is that half's
/// rows of one draw of the whole batch's mask from the whole layer's sampler, so the halves apply exactly the
/// masks (and move the sampler exactly as far) as a step trained whole.
/// </summary>
/// <remarks>
/// The two halves run on two threads and make the same sequence of draws (the same layer, the same forward
/// pass); draw k of the whole sampler is made by whichever half asks for its k-th draw first, under a lock,
/// so the sampler's order never depends on the threads.
/// </remarks>
internal sealed class HalfMasks(IDropoutSampler whole)
{
    private readonly List<byte[]> _pending = [];
    private readonly Stack<byte[]> _spare = new();
    private readonly int[] _taken = new int[2];
    private int _firstPending;
    private int _firstRows, _secondRows;

    /// <summary>The sampler the copy training rows of <paramref name="part"/> (0: the first rows, 1: the rest) draws from.</summary>
    public IDropoutSampler Part(int part) => new PartSampler(this, part);

    /// <summary>Starts a step whose halves have these row counts.</summary>
    public void StartStep(int firstRows, int secondRows)
    {
        lock (_pending)
        {
            foreach (var bits in _pending) _spare.Push(bits);
            _pending.Clear();
            _taken[0] = _taken[1] = 0;
            _firstPending = 0;
            _firstRows = firstRows;
            _secondRows = secondRows;
        }
    }

    private void Fill(int part, Span<byte> bits, int count, double rate)
    {
        lock (_pending)
        {
            int rows = part == 0 ? _firstRows : _secondRows;
            if (rows <= 0 || count % rows != 0)
                throw new InvalidOperationException($"A half of {rows} rows asked for a mask of {count} values, not a whole number of rows.");
            int perRow = count / rows, total = perRow * (_firstRows + _secondRows);
            int index = _taken[part]++ - _firstPending;
            while (_pending.Count <= index)
            {
                int bytes = (total + 7) / 8;
                var draw = _spare.Count > 0 && _spare.Peek().Length >= bytes ? _spare.Pop() : new byte[bytes];
                whole.FillKeepBits(draw, total, rate);
                _pending.Add(draw);
            }
            CopyBits(_pending[index], part == 0 ? 0 : perRow * _firstRows, bits, count);
            // A draw both halves have taken is done with.
            while (_pending.Count > 0 && Math.Min(_taken[0], _taken[1]) > _firstPending)
            {
                _spare.Push(_pending[0]);
                _pending.RemoveAt(0);
                _firstPending++;
            }
        }
    }

    /// <summary>Bits [<paramref name="from"/>, from + count) of <paramref name="source"/> into bits [0, count) of <paramref name="target"/>.</summary>
    internal static void CopyBits(ReadOnlySpan<byte> source, int from, Span<byte> target, int count)
    {
        int bytes = (count + 7) / 8, shift = from & 7, start = from >> 3;
        for (int b = 0; b < bytes; b++)
        {
            int low = source[start + b] >> shift;
            int high = shift != 0 && start + b + 1 < source.Length ? source[start + b + 1] << (8 - shift) : 0;
            target[b] = (byte)(low | high);
        }
    }

    private sealed class PartSampler(HalfMasks owner, int part) : IDropoutSampler
    {
        public void FillKeepBits(Span<byte> bits, int count, double rate) => owner.Fill(part, bits, count, rate);
    }
}
