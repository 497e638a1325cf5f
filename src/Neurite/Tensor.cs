using System.Runtime.CompilerServices;

namespace Neurite;

/// <summary>
/// A dense float32 tensor in row-major order, backed by a managed <c>float[]</c>: it never needs
/// <c>Dispose</c>. The first dimension is the batch (B) wherever a layer sees a tensor.
/// </summary>
public sealed class Tensor
{
    private readonly float[] _data;
    private readonly int[] _shape;

    /// <summary>Wraps <paramref name="data"/> without copying; its length must equal the product of the shape.</summary>
    public Tensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"Tensor dimensions must be non-negative. Received shape {ShapeText.Format(shape)}.", nameof(shape));
        long size = ShapeText.Size(shape);
        if (size != data.Length)
            throw new ArgumentException($"A tensor of shape {ShapeText.Format(shape)} needs {size} values, but {data.Length} were given. Pass data whose length is the product of the dimensions.", nameof(data));
        _data = data;
        _shape = (int[])shape.Clone();
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(new float[checked((int)ShapeText.Size(shape))], shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Zeros(shape);
        Array.Fill(t._data, value);
        return t;
    }

    /// <summary>Copies <paramref name="data"/> into a tensor of the given shape.</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => new((float[])data.Clone(), shape);

    /// <summary>Copies <paramref name="data"/> into a tensor of the given shape, converting to float32.</summary>
    public static Tensor FromArray(double[] data, params int[] shape) => new(Array.ConvertAll(data, v => (float)v), shape);

    /// <summary>A 1-D tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor From(float[] data) => new((float[])data.Clone(), data.Length);

    /// <summary>A 1-D tensor holding <paramref name="data"/> as float32.</summary>
    public static Tensor From(double[] data) => FromArray(data, data.Length);

    /// <summary>A 1-D tensor of integers as float32, e.g. class labels for sparse categorical cross-entropy.</summary>
    public static Tensor From(int[] data) => new(Array.ConvertAll(data, v => (float)v), data.Length);

    /// <summary>A 2-D tensor (rows, columns) holding a copy of <paramref name="data"/>.</summary>
    public static Tensor From(float[,] data)
    {
        var flat = new float[data.Length];
        Buffer.BlockCopy(data, 0, flat, 0, data.Length * sizeof(float));
        return new Tensor(flat, data.GetLength(0), data.GetLength(1));
    }

    /// <summary>A 2-D tensor (rows, columns) holding <paramref name="data"/> as float32.</summary>
    public static Tensor From(double[,] data)
    {
        int r = data.GetLength(0), c = data.GetLength(1);
        var flat = new float[data.Length];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                flat[i * c + j] = (float)data[i, j];
        return new Tensor(flat, r, c);
    }

    /// <summary>A 3-D tensor (samples, time steps, features) holding a copy of <paramref name="data"/>.</summary>
    public static Tensor From(float[,,] data)
    {
        var flat = new float[data.Length];
        Buffer.BlockCopy(data, 0, flat, 0, data.Length * sizeof(float));
        return new Tensor(flat, data.GetLength(0), data.GetLength(1), data.GetLength(2));
    }

    /// <summary>A 3-D tensor holding <paramref name="data"/> as float32.</summary>
    public static Tensor From(double[,,] data)
    {
        var flat = new float[data.Length];
        int i = 0;
        foreach (var v in data) flat[i++] = (float)v;
        return new Tensor(flat, data.GetLength(0), data.GetLength(1), data.GetLength(2));
    }

    /// <summary>The dimensions, batch first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Size => _data.Length;

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>The values in row-major order, without copying.</summary>
    public Span<float> Span => _data;

    /// <summary>The backing array (no copy); the library's kernels work on it directly.</summary>
    internal float[] Data => _data;

    internal int[] ShapeArray => _shape;

    /// <summary>Element at the given indices.</summary>
    public float this[params int[] index]
    {
        get => _data[Offset(index)];
        set => _data[Offset(index)] = value;
    }

    private int Offset(int[] index)
    {
        if (index.Length != _shape.Length)
            throw new ArgumentException($"Expected {_shape.Length} indices for a tensor of shape {ShapeText.Format(_shape)}, got {index.Length}.");
        int o = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i])
                throw new IndexOutOfRangeException($"Index {index[i]} is out of range for dimension {i} of size {_shape[i]}.");
            o = o * _shape[i] + index[i];
        }
        return o;
    }

    /// <summary>A copy of the values in row-major order.</summary>
    public float[] ToArray() => (float[])_data.Clone();

    /// <summary>A copy as a 2-D array; the tensor must have rank 2.</summary>
    public float[,] ToArray2D()
    {
        RequireRank(2);
        var r = new float[_shape[0], _shape[1]];
        Buffer.BlockCopy(_data, 0, r, 0, _data.Length * sizeof(float));
        return r;
    }

    /// <summary>A copy as a 3-D array; the tensor must have rank 3.</summary>
    public float[,,] ToArray3D()
    {
        RequireRank(3);
        var r = new float[_shape[0], _shape[1], _shape[2]];
        Buffer.BlockCopy(_data, 0, r, 0, _data.Length * sizeof(float));
        return r;
    }

    /// <summary>A copy as a 2-D array of doubles; the tensor must have rank 2.</summary>
    public double[,] ToDoubleArray2D()
    {
        RequireRank(2);
        var r = new double[_shape[0], _shape[1]];
        for (int i = 0; i < _shape[0]; i++)
            for (int j = 0; j < _shape[1]; j++)
                r[i, j] = _data[i * _shape[1] + j];
        return r;
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new((float[])_data.Clone(), _shape);

    /// <summary>The same values viewed with another shape of equal size (shares the data).</summary>
    public Tensor Reshape(params int[] shape)
    {
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0)
        {
            var s = (int[])shape.Clone();
            s[infer] = 1;
            long rest = ShapeText.Size(s);
            s[infer] = rest == 0 ? 0 : (int)(_data.Length / rest);
            shape = s;
        }
        return new Tensor(_data, shape);
    }

    /// <summary>Rows <paramref name="start"/> .. <paramref name="start"/>+<paramref name="count"/> of the first axis, copied.</summary>
    public Tensor Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start}..{start + count} are outside the {_shape[0]} rows of this tensor.");
        int row = RowSize;
        var data = new float[count * row];
        Array.Copy(_data, start * row, data, 0, data.Length);
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        return new Tensor(data, shape);
    }

    /// <summary>The rows at <paramref name="rows"/> of the first axis, copied in that order.</summary>
    public Tensor Gather(ReadOnlySpan<int> rows)
    {
        int row = RowSize;
        var data = new float[rows.Length * row];
        for (int i = 0; i < rows.Length; i++)
            Array.Copy(_data, rows[i] * row, data, i * row, row);
        var shape = (int[])_shape.Clone();
        shape[0] = rows.Length;
        return new Tensor(data, shape);
    }

    /// <summary>Number of values in one entry of the first axis.</summary>
    public int RowSize
    {
        get
        {
            int n = 1;
            for (int i = 1; i < _shape.Length; i++) n *= _shape[i];
            return n;
        }
    }

    private void RequireRank(int rank, [CallerMemberName] string? caller = null)
    {
        if (_shape.Length != rank)
            throw new InvalidOperationException($"{caller} needs a tensor of rank {rank}, but this one has shape {ShapeText.Format(_shape)}.");
    }

    public override string ToString()
    {
        const int shown = 6;
        var vals = string.Join(", ", _data.Take(shown).Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)));
        return $"Tensor{ShapeText.Format(_shape)} [{vals}{(_data.Length > shown ? ", ..." : "")}]";
    }
}
