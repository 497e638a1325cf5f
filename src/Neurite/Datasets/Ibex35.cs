using Neurite.Data;

namespace Neurite.Datasets;

/// <summary>
/// The IBEX 35 index, daily from 1993-02-15 to 2020-06-30 (7062 rows): Date, Open, High, Low, Close,
/// Adj Close, Volume. 174 rows are entirely missing (Yahoo's <c>null</c>), kept as missing values.
/// </summary>
/// <remarks>
/// Source: Yahoo Finance <c>^IBEX</c> via the public GitHub repository MaitaneSaez/TFM, file
/// <c>^IBEX.csv</c> (commit 81f3d81c). Volume changes units on 2010-08-23 (median about 0.2 M before,
/// 217 M after) and is 0 on most days before 2001: a forecaster that uses volume should know this.
/// See Datasets/PROVENANCE.md.
/// </remarks>
public static class Ibex35
{
    /// <summary>Where the data come from.</summary>
    public const string Provenance = "Yahoo Finance daily ^IBEX, from the public GitHub repository MaitaneSaez/TFM, file ^IBEX.csv (commit 81f3d81c).";

    /// <summary>The last day of the tutorial's series (it downloaded on 2018-11-19).</summary>
    public static DateTime TutorialEndDate { get; } = new(2018, 11, 16);

    /// <summary>Number of days in the tutorial's series.</summary>
    public const int TutorialLength = 3000;

    /// <summary>The whole file: Date, Open, High, Low, Close, Adj Close, Volume, with null rows as missing.</summary>
    public static Table Load() => EmbeddedCsv.Load("ibex35.csv");

    /// <summary>
    /// The tutorial's series: the last 3000 complete days up to 2018-11-16 (2007-02-16 to 2018-11-16),
    /// as columns Date, price (= Close) and vol (= Volume), in original units.
    /// </summary>
    public static Table TutorialWindow()
    {
        var table = Load();
        var dates = table.Date("Date");
        var upToEnd = Enumerable.Range(0, table.RowCount).Where(i => dates[i] is DateTime d && d <= TutorialEndDate).ToArray();
        var series = new Table([
            table["Date"],
            table["Close"].Rename("price"),
            table["Volume"].Rename("vol"),
        ]).Rows(upToEnd).DropIncomplete();
        return series.Tail(TutorialLength);
    }
}
