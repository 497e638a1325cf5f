using Neurite.Plots;

namespace Neurite.Cli.Tutorial;

/// <summary>What every part writes to: the console text, the HTML report and the list of plots.</summary>
internal sealed class TutorialContext(TutorialOptions options, TextWriter console, HtmlReport report)
{
    /// <summary>Plot size: large enough to read in the report, small enough to render quickly.</summary>
    public const int PlotWidth = 800, PlotHeight = 500;

    private readonly List<string> _plotFiles = [];

    public TutorialOptions Options { get; } = options;
    public TextWriter Console { get; } = console;
    public HtmlReport Report { get; } = report;

    /// <summary>Every PNG added so far, by file name.</summary>
    public IReadOnlyList<string> PlotFiles => _plotFiles;

    /// <summary>Adds a plot to the report and says on the console which file it will be.</summary>
    public void AddPlot(string fileName, byte[] png, string caption)
    {
        Report.AddImage(fileName, png, caption);
        _plotFiles.Add(fileName);
        Console.WriteLine($"[plot] {fileName}: {caption}");
    }

    /// <summary>Writes a block both to the console and, preformatted, to the report.</summary>
    public void Show(string text)
    {
        Console.Write(text.EndsWith('\n') ? text : text + Environment.NewLine);
        Report.AddPreformatted(text.TrimEnd());
    }

    /// <summary>A heading on the console (underlined) and in the report.</summary>
    public void Heading(string text, int level = 2)
    {
        Console.WriteLine();
        Console.WriteLine(text);
        Console.WriteLine(new string(level <= 2 ? '=' : '-', text.Length));
        Report.AddHeading(text, level);
    }

    /// <summary>A paragraph on the console and in the report.</summary>
    public void Say(string text)
    {
        Console.WriteLine(text);
        Report.AddParagraph(text);
    }
}
