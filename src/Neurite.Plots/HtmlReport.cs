using System.Net;
using System.Text;

namespace Neurite.Plots;

/// <summary>
/// A self-contained HTML report: inline CSS, images embedded as base64 data URIs, no scripts and no external
/// resources, so it opens offline. <see cref="WriteTo"/> also writes every image as its own PNG beside index.html.
/// All text passed in is HTML-escaped.
/// </summary>
public sealed class HtmlReport
{
    /// <summary>Name of the page <see cref="WriteTo"/> writes.</summary>
    public const string IndexFileName = "index.html";

    private const string Stylesheet = """
        :root { color-scheme: light; }
        body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #222; background: #fafafa;
               margin: 0; line-height: 1.5; }
        main { max-width: 960px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; box-shadow: 0 0 8px rgba(0,0,0,.08); }
        h1 { font-size: 1.9em; border-bottom: 2px solid #1f77b4; padding-bottom: .3em; }
        h2 { font-size: 1.4em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
        h3, h4, h5, h6 { margin-top: 1.4em; }
        pre { background: #f4f4f4; border: 1px solid #e0e0e0; border-radius: 4px; padding: 12px; overflow-x: auto;
              font-family: "DejaVu Sans Mono", Consolas, Menlo, monospace; font-size: .85em; line-height: 1.35; }
        table { border-collapse: collapse; margin: 1em 0; font-size: .95em; }
        caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: .4em; }
        th, td { border: 1px solid #d0d0d0; padding: 4px 10px; text-align: left; vertical-align: top; }
        th { background: #eef3f8; }
        tbody tr:nth-child(even) { background: #f8f8f8; }
        dl.key-values { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; margin: 1em 0; }
        dl.key-values dt { font-weight: bold; }
        dl.key-values dd { margin: 0; }
        figure { margin: 1.5em 0; text-align: center; }
        figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
        figcaption { font-size: .9em; color: #555; margin-top: .4em; }
        """;

    private readonly string _title;
    private readonly List<string> _blocks = [];
    private readonly List<(string FileName, byte[] Png)> _images = [];

    /// <summary>Starts a report whose page title and top heading are <paramref name="title"/>.</summary>
    public HtmlReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        _title = title;
    }

    /// <summary>Image file names in the order they were added; <see cref="WriteTo"/> writes each of them.</summary>
    public IReadOnlyList<string> ImageFileNames => _images.Select(image => image.FileName).ToList();

    /// <summary>Adds a section heading; level 1 to 6 (h1..h6).</summary>
    public HtmlReport AddHeading(string text, int level = 2)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (level is < 1 or > 6)
            throw new ArgumentOutOfRangeException(nameof(level), level, $"Heading level must be 1 to 6 (h1..h6); got {level}.");
        _blocks.Add($"<h{level}>{Escape(text)}</h{level}>");
        return this;
    }

    /// <summary>Adds a paragraph of plain text.</summary>
    public HtmlReport AddParagraph(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _blocks.Add($"<p>{Escape(text)}</p>");
        return this;
    }

    /// <summary>Adds text shown verbatim in a monospace block (model summaries, console output).</summary>
    public HtmlReport AddPreformatted(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _blocks.Add($"<pre>{Escape(text)}</pre>");
        return this;
    }

    /// <summary>Adds a table; every row must have as many cells as <paramref name="header"/>.</summary>
    public HtmlReport AddTable(string[] header, IReadOnlyList<string[]> rows, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        if (header.Length == 0)
            throw new ArgumentException("'header' is empty (length 0); give at least one column name.", nameof(header));
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r] is null || rows[r].Length != header.Length)
                throw new ArgumentException(
                    $"'rows'[{r}] has {rows[r]?.Length.ToString() ?? "null"} cells but 'header' has {header.Length} columns; " +
                    "every row needs one cell per column.", nameof(rows));
        }

        var html = new StringBuilder("<table>\n");
        if (caption is not null)
            html.Append("<caption>").Append(Escape(caption)).Append("</caption>\n");
        html.Append("<thead><tr>");
        foreach (var cell in header)
            html.Append("<th>").Append(Escape(cell ?? "")).Append("</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
                html.Append("<td>").Append(Escape(cell ?? "")).Append("</td>");
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table>");
        _blocks.Add(html.ToString());
        return this;
    }

    /// <summary>
    /// Adds a figure. The PNG is embedded as a data URI (the page needs no other file) and kept under
    /// <paramref name="fileName"/>, a plain unique file name such as "history.png", for <see cref="WriteTo"/>.
    /// </summary>
    public HtmlReport AddImage(string fileName, byte[] png, string caption)
    {
        ValidateImageFileName(fileName);
        ArgumentNullException.ThrowIfNull(png);
        ArgumentNullException.ThrowIfNull(caption);
        if (png.Length == 0)
            throw new ArgumentException($"'png' for \"{fileName}\" is empty (0 bytes); pass the bytes a Charts method returned.", nameof(png));

        _images.Add((fileName, png));
        string alt = caption.Length > 0 ? caption : fileName;
        _blocks.Add(
            "<figure>\n" +
            $"<img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" alt=\"{Escape(alt)}\" " +
            $"data-file=\"{Escape(fileName)}\">\n" +
            $"<figcaption>{Escape(caption)} <a href=\"{Escape(Uri.EscapeDataString(fileName))}\">({Escape(fileName)})</a></figcaption>\n" +
            "</figure>");
        return this;
    }

    /// <summary>Adds a list of labelled values (settings, metrics).</summary>
    public HtmlReport AddKeyValues(IReadOnlyList<(string Key, string Value)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var html = new StringBuilder("<dl class=\"key-values\">\n");
        foreach (var (key, value) in items)
            html.Append("<dt>").Append(Escape(key ?? "")).Append("</dt><dd>").Append(Escape(value ?? "")).Append("</dd>\n");
        html.Append("</dl>");
        _blocks.Add(html.ToString());
        return this;
    }

    /// <summary>The complete page.</summary>
    public string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(Escape(_title)).Append("</title>\n");
        html.Append("<style>\n").Append(Stylesheet).Append("\n</style>\n</head>\n<body>\n<main>\n");
        html.Append("<h1>").Append(Escape(_title)).Append("</h1>\n");
        foreach (var block in _blocks)
            html.Append(block).Append('\n');
        html.Append("</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// Writes index.html and every image file into <paramref name="folder"/> (created if missing). Each file is
    /// written to a temporary name and renamed, images first, so the page never refers to a missing or partial file.
    /// </summary>
    public void WriteTo(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        foreach (var (fileName, png) in _images)
            AtomicFile.Write(Path.Combine(folder, fileName), png);
        AtomicFile.Write(Path.Combine(folder, IndexFileName), new UTF8Encoding(false).GetBytes(ToHtml()));
    }

    private void ValidateImageFileName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        bool plainName = fileName.Length > 0
            && fileName == Path.GetFileName(fileName)
            && fileName.IndexOfAny(Path.GetInvalidFileNameChars()) < 0
            && fileName.IndexOfAny(['/', '\\']) < 0
            && fileName is not ("." or "..");
        if (!plainName)
            throw new ArgumentException(
                $"'fileName' is \"{fileName}\"; pass a plain file name without folders, such as \"history.png\".", nameof(fileName));
        if (string.Equals(fileName, IndexFileName, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'fileName' \"{fileName}\" would overwrite the report page; choose another name.", nameof(fileName));
        if (_images.Any(image => string.Equals(image.FileName, fileName, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException(
                $"'fileName' \"{fileName}\" is already used by another image in this report; give each image its own name.", nameof(fileName));
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
