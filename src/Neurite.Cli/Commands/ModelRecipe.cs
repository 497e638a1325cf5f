using System.Text.Json;
using System.Text.Json.Serialization;
using Neurite.Data;

namespace Neurite.Cli.Commands;

/// <summary>
/// The preprocessing a saved model needs to read new rows the way it was trained: feature columns, scaler
/// parameters, one-hot levels, class names, and for a forecaster the lookback and horizon. It travels beside the
/// .keras file as <c>MODEL.keras.neurite.json</c>: the .keras archive is Keras's own format, which Neurite writes
/// with exactly Keras's members, so a separate small file keeps the archive loadable by Keras unchanged.
/// </summary>
internal sealed record ModelRecipe
{
    public const string FormatName = "neurite-recipe";
    public const int CurrentVersion = 1;
    public const string SidecarSuffix = ".neurite.json";

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = CurrentVersion;

    /// <summary>"classify" or "forecast".</summary>
    public required string Task { get; init; }

    public ClassifyRecipe? Classify { get; init; }
    public ForecastRecipe? Forecast { get; init; }

    /// <summary>
    /// SHA-256 (lowercase hex) of the .keras file this recipe was saved with: the pair is refused when the model file
    /// beside it has other bytes (another model's recipe copied over, or a save killed between the two renames).
    /// </summary>
    public string? ModelSha256 { get; init; }

    /// <summary>Tokens read as missing in training besides the reader's defaults (--missing); new files are read with them too.</summary>
    public string[]? Missing { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string SidecarPath(string modelPath) => modelPath + SidecarSuffix;

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads the sidecar of <paramref name="modelPath"/>, refusing anything that is not a complete recipe.</summary>
    public static ModelRecipe Load(string modelPath)
    {
        string path = SidecarPath(modelPath);
        if (!File.Exists(path))
            throw new UserInputException($"The model '{modelPath}' has no preprocessing file '{Path.GetFileName(path)}' beside it, so its feature columns and scaling are unknown. Save the model with 'neurite classify --save' or 'neurite forecast --save', and keep the two files together.");
        ModelRecipe? recipe;
        try
        {
            recipe = JsonSerializer.Deserialize<ModelRecipe>(File.ReadAllText(path), Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException)
        {
            throw new UserInputException($"The preprocessing file '{path}' cannot be read ({OneLine(e.Message)}). Save the model again with --save, which writes both files.");
        }
        string? problem = recipe is null ? "it is empty"
            : recipe.Format != FormatName ? $"its format is '{recipe.Format}', not '{FormatName}'"
            : recipe.Version != CurrentVersion ? $"it is version {recipe.Version}; this neurite reads version {CurrentVersion}"
            : recipe.Task == "classify" && recipe.Classify is { } c ? c.Problem()
            : recipe.Task == "forecast" && recipe.Forecast is { } f ? f.Problem()
            : $"its task '{recipe.Task}' has no matching section";
        if (problem is not null)
            throw new UserInputException($"The preprocessing file '{path}' is not usable: {problem}. Save the model again with 'neurite classify --save' or 'neurite forecast --save'.");
        return recipe!;
    }

    /// <summary>SHA-256 of the file's bytes, as lowercase hex.</summary>
    public static string Fingerprint(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Refuses this recipe unless it was saved with the model file whose SHA-256 is <paramref name="modelFingerprint"/>.</summary>
    public void RequireSavedWith(string modelPath, string modelFingerprint)
    {
        string sidecar = Path.GetFileName(SidecarPath(modelPath));
        if (ModelSha256 is null)
            throw new UserInputException($"The preprocessing file '{sidecar}' does not record which model file it was saved with (an older neurite wrote it), so it cannot be checked against '{modelPath}'. Train and save the model again with --save, which writes both files as a pair.");
        if (!string.Equals(ModelSha256, modelFingerprint, StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"The model '{modelPath}' and its preprocessing file '{sidecar}' do not belong together: the preprocessing was saved with a model file of SHA-256 {ModelSha256[..Math.Min(12, ModelSha256.Length)]}..., this one is {modelFingerprint[..12]}... (a copied preprocessing file, or a save that was interrupted). Save the model again with --save, which writes both.");
    }

    internal static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}

/// <summary>One input column: numeric (standardised with the training mean and sd) or categorical (one-hot over its levels).</summary>
internal sealed record FeatureRecipe(string Name, string Kind, double Mean = 0, double Sd = 1, string[]? Levels = null)
{
    public const string Numeric = "numeric", Categorical = "categorical";

    public int Width => Kind == Categorical ? Levels!.Length : 1;

    public string? Problem() =>
        string.IsNullOrEmpty(Name) ? "a feature has no name"
        : Kind == Numeric ? (double.IsFinite(Mean) && double.IsFinite(Sd) && Sd > 0 ? null : $"feature '{Name}' has mean {Mean} and sd {Sd}")
        : Kind == Categorical ? (Levels is { Length: > 0 } ? null : $"categorical feature '{Name}' has no levels")
        : $"feature '{Name}' has the unknown kind '{Kind}'";
}

/// <summary>What <c>neurite classify</c> learned besides the weights.</summary>
internal sealed record ClassifyRecipe(string Target, string[] Classes, FeatureRecipe[] Features, string MajorityClass)
{
    public int InputWidth => Features.Sum(f => f.Width);

    public string? Problem() =>
        string.IsNullOrEmpty(Target) ? "it names no target column"
        : Classes is not { Length: >= 2 } ? "it has fewer than two classes"
        : Features is not { Length: > 0 } ? "it has no feature columns"
        : Features.Select(f => f.Problem()).FirstOrDefault(p => p is not null);

    /// <summary>The column kinds the model was trained on, to read new files the same way rather than guess afresh.</summary>
    public Dictionary<string, ColumnKind> ColumnKinds()
    {
        var kinds = Features.ToDictionary(f => f.Name, f => f.Kind == FeatureRecipe.Numeric ? ColumnKind.Numeric : ColumnKind.Categorical, StringComparer.Ordinal);
        kinds[Target] = ColumnKind.Categorical;
        return kinds;
    }

    /// <summary>
    /// The rows of <paramref name="table"/> (all, or those in <paramref name="only"/>) encoded as the model's inputs;
    /// rows with a missing feature are left out and returned in <c>Skipped</c>. A text value the model never saw
    /// gets an all-zero one-hot block (no level is on), and is counted in <c>Unseen</c>. A missing column is an error.
    /// </summary>
    public EncodedRows Encode(Table table, string file, IReadOnlyList<int>? only = null)
    {
        var columns = new Column[Features.Length];
        var levelIndex = new Dictionary<string, int>?[Features.Length];
        for (int j = 0; j < Features.Length; j++)
        {
            var f = Features[j];
            if (!table.Contains(f.Name))
                throw new UserInputException($"{file} does not match the model: it has no column '{f.Name}', one of the model's {Features.Length} features [{DataFile.ShortList(Features.Select(x => x.Name).ToArray())}]. Give a CSV with the columns the model was trained on.");
            columns[j] = f.Kind == FeatureRecipe.Numeric
                ? DataFile.RequireNumeric(table, f.Name, "a numeric feature of the model", "The model was trained on numbers in this column; give a CSV with numbers there.", file)
                : table[f.Name];
            if (columns[j] is NumericColumn n) DataFile.RequireFinite(n, file);
            if (f.Kind == FeatureRecipe.Categorical)
            {
                levelIndex[j] = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int l = 0; l < f.Levels!.Length; l++) levelIndex[j]![f.Levels[l]] = l;
            }
        }
        var rows = new List<int>();
        var skipped = new List<int>();
        foreach (int i in only ?? Enumerable.Range(0, table.RowCount).ToArray())
            (columns.Any(c => c.IsMissing(i)) ? skipped : rows).Add(i);
        int width = InputWidth;
        const string fix = "Leave out text columns with many different values (--exclude), or use fewer rows.";
        MemoryCheck.RequireArray((double)rows.Count * width, $"{rows.Count} rows x {width} inputs", fix);
        MemoryCheck.Require(4.0 * rows.Count * width, $"{rows.Count} rows x {width} inputs", fix);
        var data = new float[checked(rows.Count * width)];
        var unseen = new UnseenValues();
        for (int r = 0; r < rows.Count; r++)
        {
            int i = rows[r], offset = r * width;
            bool rowUnseen = false;
            for (int j = 0; j < Features.Length; j++)
            {
                var f = Features[j];
                if (f.Kind == FeatureRecipe.Numeric)
                {
                    data[offset++] = (float)((((NumericColumn)columns[j])[i] - f.Mean) / f.Sd);
                    continue;
                }
                string value = columns[j].Format(i)!;
                if (levelIndex[j]!.TryGetValue(value, out int level)) data[offset + level] = 1f;
                else
                {
                    rowUnseen = true;
                    unseen.Add(f.Name, value, i + 2);
                }
                offset += f.Levels!.Length;
            }
            if (rowUnseen) unseen.Rows++;
        }
        return new EncodedRows(new Tensor(data, rows.Count, width), rows.ToArray(), skipped.ToArray(), unseen);
    }
}

/// <summary>Encoded inputs: the rows used (0-based), the rows skipped for a missing feature, and values training never saw.</summary>
internal sealed record EncodedRows(Tensor X, int[] Rows, int[] Skipped, UnseenValues Unseen);

/// <summary>Text values a model never saw in training, encoded as all-zero one-hot blocks: counted, the first few named.</summary>
internal sealed class UnseenValues
{
    private const int Named = 3;
    private readonly List<string> _examples = [];

    /// <summary>Rows with at least one such value.</summary>
    public int Rows { get; set; }

    /// <summary>Cells with such a value.</summary>
    public int Cells { get; private set; }

    public void Add(string column, string value, int line)
    {
        Cells++;
        if (_examples.Count < Named) _examples.Add($"'{value}' in '{column}' (line {line})");
    }

    /// <summary>A sentence for the user, or null when every value was seen.</summary>
    public string? Describe(string file) => Rows == 0 ? null
        : $"{Rows} row{(Rows == 1 ? "" : "s")} of {file} hold{(Rows == 1 ? "s" : "")} text values the model never saw in training ({Cells} cell{(Cells == 1 ? "" : "s")}, e.g. {string.Join(", ", _examples)}); their one-hot inputs are all zero.";
}

/// <summary>
/// What <c>neurite forecast</c> learned besides the network's weights: the forecaster's state (smoothing
/// parameters and states, the linear model, the combination, the interval widths) and how to read the series.
/// The training rows' count and hash let <c>predict</c> and <c>evaluate</c> check that a series starts where
/// the smoothing state started, so that they repeat the forecasts <c>forecast</c> printed.
/// </summary>
/// <remarks><paramref name="DateFormat"/> is how the date column writes its dates; null means yyyy-MM-dd.</remarks>
internal sealed record ForecastRecipe(string Column, string? Date, int Horizon, int Season, int TrainingRows, string TrainingHash,
    Neurite.Forecasting.ForecasterState? Forecaster, Neurite.Forecasting.LinearAutoregression? NetworkBase, string? DateFormat = null, string[]? FeatureColumns = null)
{
    /// <summary>The feature columns the networks read besides the forecast column (none for older recipes).</summary>
    [JsonIgnore]
    public string[] FeatureNames => FeatureColumns ?? [];

    public string? Problem() =>
        string.IsNullOrEmpty(Column) ? "it names no forecast column"
        : Forecaster is null ? "it was written by an older neurite forecast (stacked LSTMs), which this version no longer reads; train and save the model again with 'neurite forecast --save'"
        : Horizon < 1 || Season < 1 || TrainingRows < 1 || Horizon != Forecaster.Horizon ? $"horizon {Horizon}, season {Season} or training rows {TrainingRows} is not positive or does not match the forecaster"
        : Forecaster.NetworkMembers < 1 || NetworkBase is null ? "it has no network ensemble"
        : FeatureNames.Length != Forecaster.CovariateScales.Length || FeatureNames.Any(string.IsNullOrEmpty) ? $"it names {FeatureNames.Length} feature column(s) but the forecaster reads {Forecaster.CovariateScales.Length}"
        : null;
}
