namespace Neurite.Data;

/// <summary>
/// Integer codes and categorical columns to one-hot matrices. Named to avoid a clash with
/// <c>System.Text.Encoding</c>, which most files import.
/// </summary>
public static class CategoricalEncoding
{
    /// <summary>
    /// Keras's <c>to_categorical</c>: row i of the (N, C) result is 1 in column <c>codes[i]</c> and 0
    /// elsewhere, with C = <paramref name="numClasses"/> or, when null, <c>max(codes) + 1</c>.
    /// </summary>
    /// <exception cref="NeuriteException">A code is negative (missing) or not below <paramref name="numClasses"/>.</exception>
    public static Tensor ToCategorical(IReadOnlyList<int> codes, int? numClasses = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        if (numClasses is <= 0)
            throw new NeuriteException($"numClasses must be positive. Received numClasses={numClasses}. Pass the number of classes, or null to use max(codes) + 1.");
        int classes = numClasses ?? (codes.Count == 0 ? 0 : codes.Max() + 1);
        var data = new float[codes.Count * classes];
        for (int i = 0; i < codes.Count; i++)
        {
            int c = codes[i];
            if (c < 0)
                throw new NeuriteException($"Code {c} at position {i} is negative; to_categorical needs class indices 0..{classes - 1}. A code of -1 is a missing value: drop incomplete rows first (Table.DropIncomplete).");
            if (c >= classes)
                throw new NeuriteException($"Code {c} at position {i} is not below numClasses={classes}. Pass numClasses of at least {c + 1}, or null to use max(codes) + 1.");
            data[i * classes + c] = 1f;
        }
        return new Tensor(data, codes.Count, classes);
    }

    /// <summary>
    /// <see cref="ToCategorical(IReadOnlyList{int}, int?)"/> for whole-number doubles, as R's
    /// <c>to_categorical(as.numeric(f) - 1)</c> passes them.
    /// </summary>
    public static Tensor ToCategorical(IReadOnlyList<double> codes, int? numClasses = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var ints = new int[codes.Count];
        for (int i = 0; i < ints.Length; i++)
        {
            double v = codes[i];
            if (double.IsNaN(v) || v != Math.Floor(v) || v > int.MaxValue || v < int.MinValue)
                throw new NeuriteException($"Value {v} at position {i} is not a whole number, so it cannot be a class index. Pass integer codes 0..C-1.");
            ints[i] = (int)v;
        }
        return ToCategorical(ints, numClasses);
    }

    /// <summary>
    /// One-hot of a categorical column by level index: an (N, Levels.Count) matrix whose column k is
    /// level <c>Levels[k]</c>, so levels absent from these rows still get their (all-zero) column.
    /// </summary>
    public static Tensor OneHot(CategoricalColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var codes = column.Codes;
        for (int i = 0; i < codes.Length; i++)
            if (codes[i] < 0)
                throw new NeuriteException($"Column '{column.Name}' is missing at row {i}; one-hot encoding needs a level in every row. Drop incomplete rows first (Table.DropIncomplete).");
        return ToCategorical(column.ToCodes(), column.Levels.Count);
    }

    /// <summary>
    /// The named categorical columns one-hot encoded side by side (R's
    /// <c>cbind(to_categorical(...), ...)</c>): width = the sum of their level counts, in column order.
    /// </summary>
    public static Tensor OneHot(Table table, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(table);
        var parts = columns.Select(n => OneHot(table.Categorical(n))).ToArray();
        int rows = table.RowCount, width = parts.Sum(p => p.Dim(1));
        var data = new float[rows * width];
        int offset = 0;
        foreach (var part in parts)
        {
            int w = part.Dim(1);
            var src = part.Span;
            for (int i = 0; i < rows; i++)
                src.Slice(i * w, w).CopyTo(data.AsSpan(i * width + offset, w));
            offset += w;
        }
        return new Tensor(data, rows, width);
    }

    /// <summary>Names of the columns <see cref="OneHot(Table, string[])"/> produces, as <c>column=level</c>.</summary>
    public static string[] OneHotNames(Table table, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(table);
        return columns.SelectMany(n => table.Categorical(n).Levels.Select(l => $"{n}={l}")).ToArray();
    }
}
